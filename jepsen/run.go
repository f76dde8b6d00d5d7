package jepsen

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/cellmap/cellmap/jepsen/check"
	"github.com/cellmap/cellmap/jepsen/cluster"
	"github.com/cellmap/cellmap/jepsen/history"
	"github.com/cellmap/cellmap/jepsen/nemesis"
	"github.com/cellmap/cellmap/jepsen/netns"
)

// ErrCannotRun: the machine cannot host the test network (see netns.Probe).
var ErrCannotRun = netns.ErrCannotRun

// ErrHarness: the harness itself failed (build, network setup, a panic); no verdict.
var ErrHarness = errors.New("jepsen: harness failure")

// Result is a finished run.
type Result struct {
	Verdict  check.Verdict
	ExitCode int
	// Dir is the run directory.
	Dir     string
	Report  *check.Report
	Summary string
}

// Passed is the number of checkers that passed (0 without a report).
func (r *Result) Passed() int {
	if r == nil || r.Report == nil {
		return 0
	}
	return r.Report.Passed
}

// runner holds the state of one run.
type runner struct {
	cfg    Config
	seed   uint64
	dir    string
	names  []string
	plans  []nemesis.Plan
	start  time.Time
	rec    *history.Recorder
	hist   *os.File
	net    *netns.Net
	cl     *cluster.Cluster
	env    *env
	binDir string
	cancel context.CancelFunc

	mu    sync.Mutex
	fatal error
	fault int // the fault most recently started
}

// Run performs a chaos run and returns its verdict. It cleans up what it created (network
// namespaces, links, rules, processes) on every path, including panics and ctx cancellation
// (SIGINT). A run that could not start returns an error and an exit code: ExitCannotRun with
// ErrCannotRun, else ExitIncomplete with ErrHarness.
func Run(ctx context.Context, cfg *Config) (res *Result, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := netns.Probe(ctx); err != nil {
		return &Result{ExitCode: ExitCannotRun}, err
	}
	r, err := newRunner(cfg)
	if err != nil {
		return &Result{ExitCode: ExitIncomplete}, err
	}
	defer func() {
		if p := recover(); p != nil {
			res, err = &Result{ExitCode: ExitIncomplete, Dir: r.dir}, fmt.Errorf("%w: panic: %v\n%s", ErrHarness, p, debug.Stack())
		}
	}()
	return r.run(ctx)
}

func newRunner(cfg *Config) (*runner, error) {
	r := &runner{cfg: *cfg, seed: cfg.Seed, start: time.Now()}
	if r.cfg.Log == nil {
		r.cfg.Log = io.Discard
	}
	if r.seed == 0 {
		var b [8]byte
		rand.Read(b[:])
		r.seed = binary.LittleEndian.Uint64(b[:]) % 1_000_000_000
	}
	names, err := nemesis.ResolveFor(cfg.Nemesis, cfg.Nodes, cfg.Workloads)
	if err != nil {
		return nil, err
	}
	r.names = names
	if r.plans, err = nemesis.NewSchedule(r.seed, cfg.Episodes, names, cfg.EpisodeTime, cfg.Schedule); err != nil {
		return nil, err
	}
	r.dir = cfg.Out
	if r.dir == "" {
		r.dir = filepath.Join("jepsen-runs", fmt.Sprintf("%s-seed%d", r.start.Format("20060102-150405"), r.seed))
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrHarness, err)
	}
	return r, nil
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Log, "cellmap-jepsen %6.1fs: %s\n", time.Since(r.start).Seconds(), fmt.Sprintf(format, args...))
}

// setFatal records the first harness failure and stops the run.
func (r *runner) setFatal(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fatal == nil {
		r.fatal = err
		if r.cancel != nil {
			r.cancel()
		}
	}
}

func (r *runner) fatalErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal
}

// goSafe runs fn in a goroutine whose panic stops the run instead of crashing the process
// with namespaces left behind.
func (r *runner) goSafe(wg *sync.WaitGroup, name string, fn func()) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			if p := recover(); p != nil {
				r.setFatal(fmt.Errorf("%w: %s panicked: %v\n%s", ErrHarness, name, p, debug.Stack()))
			}
		}()
		fn()
	}()
}

func (r *runner) run(parent context.Context) (*Result, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	r.mu.Lock()
	r.cancel = cancel
	r.mu.Unlock()
	r.logf("seed %d, %d nodes, %d episodes of %v, nemeses: %v, run dir %s", r.seed, r.cfg.Nodes, r.cfg.Episodes,
		r.cfg.EpisodeTime, r.names, r.dir)
	unlock, err := netns.Lock(ctx, 3*time.Minute)
	if err != nil {
		return &Result{ExitCode: ExitIncomplete, Dir: r.dir}, err
	}
	defer unlock()
	if err := netns.Reap(ctx, nil); err != nil {
		r.logf("removing leftovers of an earlier run: %v", err)
	}
	defer r.teardown() // also on panic; teardown is idempotent
	if err := r.setup(ctx); err != nil {
		return &Result{ExitCode: ExitIncomplete, Dir: r.dir}, fmt.Errorf("%w: %v", ErrHarness, err)
	}
	r.execute(ctx)
	r.teardown()
	if err := r.fatalErr(); err != nil {
		return &Result{ExitCode: ExitIncomplete, Dir: r.dir}, err
	}
	return r.finish()
}

// setup builds the server, creates the network and opens the history.
func (r *runner) setup(ctx context.Context) error {
	bin := r.cfg.ServerBinary
	if bin == "" {
		tmp, err := os.MkdirTemp("", netns.Prefix+"bin-")
		if err != nil {
			return err
		}
		r.logf("building cellmapd (unsafe reads: %v, quota fault: %v)", r.cfg.UnsafeReads, r.cfg.FaultQuota)
		if bin, err = cluster.Build(ctx, tmp, r.cfg.UnsafeReads, r.cfg.FaultQuota); err != nil {
			os.RemoveAll(tmp)
			return err
		}
		r.binDir = tmp
	}
	net, err := netns.New(r.cfg.Nodes, nil)
	if err != nil {
		return err
	}
	r.net = net
	r.logf("creating %d network namespaces on bridge %s", r.cfg.Nodes, netns.Bridge)
	if err := net.Setup(ctx); err != nil {
		return err
	}
	ccfg := cluster.DefaultConfig(r.cfg.Nodes)
	ccfg.Binary, ccfg.Dir = bin, filepath.Join(r.dir, "nodes")
	if r.cl, err = cluster.New(ccfg); err != nil {
		return err
	}
	prebuilt := ""
	if r.cfg.ServerBinary != "" {
		prebuilt = filepath.Dir(r.cfg.ServerBinary)
	}
	if r.binDir == "" {
		if r.binDir, err = os.MkdirTemp("", netns.Prefix+"bin-"); err != nil {
			return err
		}
	}
	r.env = &env{c: r.cl, net: net, netem: net.HasNetem(ctx), hosts: newHosts(net, r.cl, ccfg.Dir, r.binDir, prebuilt)}
	if r.hist, err = os.Create(filepath.Join(r.dir, "history.jsonl")); err != nil {
		return err
	}
	r.rec = history.NewRecorder(r.hist)
	r.env.record = logRecorder{r}.Record
	return nil
}

// teardown stops every process and removes the network; safe to call more than once.
func (r *runner) teardown() {
	if r.cl != nil {
		if err := r.cl.Shutdown(5 * time.Second); err != nil {
			r.logf("stopping nodes: %v", err)
		}
		r.cl = nil
	}
	if r.net != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := r.net.Teardown(ctx); err != nil {
			r.logf("removing the test network: %v", err)
		}
		r.net = nil
	}
	if r.hist != nil {
		r.hist.Close()
		r.hist = nil
	}
	if r.binDir != "" {
		os.RemoveAll(r.binDir)
		r.binDir = ""
	}
}

// runStart is the run-start event's data: what the checkers need plus the run's settings.
type runStart struct {
	check.RunInfo
	Episodes    int             `json:"episodes"`
	EpisodeTime string          `json:"episode_time"`
	Nemeses     []string        `json:"nemeses"`
	UnsafeReads bool            `json:"unsafe_reads"`
	FaultQuota  bool            `json:"fault_quota,omitempty"`
	Rate        float64         `json:"rate"`
	Netem       bool            `json:"netem"`
	Plans       []nemesis.Plan  `json:"plans"`
	Started     time.Time       `json:"started"`
	Extra       json.RawMessage `json:"extra,omitempty"`
}
