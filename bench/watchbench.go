package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// The watch benchmark (issue 12, make bench-watch): one cellmapd node, Watchers change streams
// on it held by Procs fleet processes (watchfleet.go), and three measurements:
//   - memory: the node's RSS and Go heap idle, then with every stream open and idle;
//   - apply throughput: closed-loop creates for ThroughputFor, with no streams and with all;
//   - fan-out: Rate creates per second in the background (instance mappings, which the
//     streams — kinds=cells — filter out on the node) while a probe write (a cell rename)
//     every ProbeEvery must reach every stream; latency from sending the probe's write to
//     its arrival at each stream.

// WatchBenchConfig configures the watch benchmark.
type WatchBenchConfig struct {
	Cellmapd, Self, Dir string
	Watchers, Procs     int
	Rate, Concurrency   int
	Duration            time.Duration
	ProbeEvery          time.Duration
	ThroughputFor       time.Duration
	// Query is the streams' watch query.
	Query string
	// Preload mappings are written (bulk) before the first throughput run, so that the
	// throughput runs' own creates grow the store by a small share: on an empty store the
	// run before the streams measured ~20 % above those after it, whatever the streams.
	Preload int
	// WatchesPerConn is how many of cellmap's streams share one connection: 1 is an HTTP/1.1
	// connection each, more share HTTP/2 connections (etcd's fleets put
	// etcd.WatchersPerConn watches on one gRPC connection).
	WatchesPerConn int
	// WatchesPerRequest is how many of cellmap's watches one POST /v1/watch stream carries
	// (an HTTP/1.1 connection each); more than 1 excludes WatchesPerConn.
	WatchesPerRequest int
}

// WatchBenchReport is the benchmark's result.
type WatchBenchReport struct {
	Watchers, Connected int64
	// RSS is the node's resident memory; Live its Go heap in use plus goroutine stacks right
	// after a collection (runtime.MemStats HeapInuse + StackInuse).
	RSSIdle, RSSWatched   int64
	LiveIdle, LiveWatched int64
	// CreatesIdle is the mean of the runs before the streams opened and after they closed.
	CreatesBefore, CreatesAfter float64
	CreatesIdle, CreatesWatched float64
	// CPU* are the server's CPU time per create (µs) in the same runs (0 when unknown): a
	// figure the machine's other work moves less than the creates per second.
	CPUBefore, CPUWatched, CPUAfter float64
	WritesSent                      int64
	WriteRate                       float64
	ProbesSent, ProbesDelivered     int64
	// FanOut runs from sending a probe's write to its arrival at a watch; FanOutAfterAck from
	// the write's acknowledgement (the fan-out proper); ProbeWrite is the probes' write latency.
	FanOut, FanOutAfterAck, ProbeWrite Latency
	// acks are the probes' write latencies by send time (unix ns).
	acks    map[int64]time.Duration
	LoadAvg string
}

// WatchSystem is a store under the watch benchmark: cellmap (CellmapWatchSystem) or etcd
// (nested module bench/etcd).
type WatchSystem interface {
	// Target writes the creates.
	Target() Target
	// Probe writes a change that reaches every stream, carrying name (ProbePrefix + send time).
	Probe(ctx context.Context, name string) error
	// FleetArgs are the arguments of a fleet process holding n streams.
	FleetArgs(n int) []string
	// Memory is the server's resident memory and its live Go memory after a collection.
	Memory(ctx context.Context) (rss, live int64)
	// Stop ends the server.
	Stop()
}

// StartSystem starts the system under test in dir, sized for watchers streams.
type StartSystem func(ctx context.Context, dir string, watchers int) (WatchSystem, error)

// RunWatchBench runs the benchmark; everything it starts is stopped when it returns.
func RunWatchBench(ctx context.Context, cfg *WatchBenchConfig, start StartSystem, progress io.Writer) (*WatchBenchReport, error) {
	raiseNoFile()
	sys, err := start(ctx, cfg.Dir, cfg.Watchers)
	if err != nil {
		return nil, err
	}
	defer sys.Stop()
	t := sys.Target()
	rep := &WatchBenchReport{Watchers: int64(cfg.Watchers)}
	say := func(f string, a ...any) { fmt.Fprintf(progress, "watch-bench: "+f+"\n", a...) }
	if cfg.Preload > 0 {
		if err := preloadStore(ctx, cfg.Preload, t); err != nil {
			return nil, err
		}
		say("preloaded %d mappings", cfg.Preload)
	}
	pid := 0
	if p, ok := sys.(interface{ ServerPID() int }); ok {
		pid = p.ServerPID()
	}
	if rep.CreatesBefore, rep.CPUBefore, err = createThroughput(ctx, cfg, t, pid); err != nil {
		return nil, err
	}
	say("creates/s without streams: %.0f", rep.CreatesBefore)
	rep.RSSIdle, rep.LiveIdle = sys.Memory(ctx)
	fleets, err := startFleets(ctx, cfg, sys)
	defer stopFleets(fleets)
	if err != nil {
		return nil, err
	}
	for _, f := range fleets {
		rep.Connected += f.ready
	}
	say("%d of %d streams open", rep.Connected, cfg.Watchers)
	rep.RSSWatched, rep.LiveWatched = sys.Memory(ctx)
	if rep.CreatesWatched, rep.CPUWatched, err = createThroughput(ctx, cfg, t, pid); err != nil {
		return nil, err
	}
	say("creates/s with %d streams: %.0f", rep.Connected, rep.CreatesWatched)
	if err := fanOut(ctx, cfg, sys, rep); err != nil {
		return nil, err
	}
	hist, after := NewHistogram(), NewHistogram()
	for _, f := range fleets {
		fr, err := f.finish()
		if err != nil {
			return nil, err
		}
		rep.ProbesDelivered += fr.Probes
		if fr.Latency != nil {
			hist.h.Merge(hdrhistogram.Import(fr.Latency))
		}
		afterAck(after, fr.ByProbe, rep.acks)
	}
	rep.FanOut, rep.FanOutAfterAck = hist.Summary(), after.Summary()
	if rep.CreatesAfter, rep.CPUAfter, err = createThroughput(ctx, cfg, t, pid); err != nil {
		return nil, err
	}
	rep.CreatesIdle = (rep.CreatesBefore + rep.CreatesAfter) / 2
	say("creates/s after the streams closed: %.0f", rep.CreatesAfter)
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.LoadAvg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return rep, nil
}

// cellmapWatch is a one-node cellmapd under the watch benchmark.
type cellmapWatch struct {
	lc         *localCluster
	t          *CellmapTarget
	pprofAddr  string
	probeCell  string
	fleetQuery string
	perConn    int
	perReq     int
}

// CellmapWatchSystem starts one cellmapd (bin) whose streams watch query (kinds=cells: the
// probes rename a cell, the creates are instance mappings the streams filter out), perConn
// streams on one connection (HTTP/2 when more than one) or perReq watches on one POST stream.
func CellmapWatchSystem(bin, query string, perConn, perReq int) StartSystem {
	return func(ctx context.Context, dir string, watchers int) (WatchSystem, error) {
		lc, err := newLocalCluster(bin, dir, "lan", 1)
		if err != nil {
			return nil, err
		}
		sys := &cellmapWatch{lc: lc, fleetQuery: query, perConn: perConn, perReq: perReq}
		if sys.pprofAddr, err = FreeAddr(); err != nil {
			return nil, err
		}
		if err := lc.start(lc.nodes[0], "--bootstrap", "--watch-max-watchers", fmt.Sprint(watchers+1000), "--pprof-addr", sys.pprofAddr); err != nil {
			return nil, err
		}
		if err := sys.setup(ctx); err != nil {
			lc.stopAll()
			return nil, err
		}
		return sys, nil
	}
}

func (c *cellmapWatch) setup(ctx context.Context) error {
	if err := WaitSecureCluster(ctx, c.lc.endpoints(), 1, 60*time.Second, &Security{TokenFile: c.lc.tokenFile}); err != nil {
		return err
	}
	c.t = NewCellmapTarget(c.lc.endpoints(), c.lc.token)
	if err := c.t.Setup(ctx); err != nil {
		return err
	}
	var err error
	c.probeCell, err = createProbeCell(ctx, c.lc.nodes[0].c)
	return err
}

func (c *cellmapWatch) Target() Target { return c.t }
func (c *cellmapWatch) Stop()          { c.lc.stopAll() }

// ServerPID is the node's process, whose CPU time per create the benchmark reports.
func (c *cellmapWatch) ServerPID() int { return c.lc.nodes[0].p.Pid() }

func (c *cellmapWatch) Probe(ctx context.Context, name string) error {
	_, err := c.lc.nodes[0].c.UpdateCell(ctx, c.probeCell, api.CellUpdate{Name: &name})
	return err
}

func (c *cellmapWatch) FleetArgs(n int) []string {
	return []string{"watch-fleet", "--addr", c.lc.nodes[0].http, "--token-file", c.lc.tokenFile, "--query", c.fleetQuery, "--watchers", fmt.Sprint(n),
		"--watches-per-conn", fmt.Sprint(c.perConn), "--watches-per-request", fmt.Sprint(c.perReq)}
}

func (c *cellmapWatch) Memory(ctx context.Context) (rss, live int64) {
	settle(ctx)
	if m, err := c.lc.nodes[0].p.memory(); err == nil {
		rss = m.rss
	}
	return rss, LiveMemory(ctx, "http://"+c.pprofAddr)
}

// raiseNoFile lifts the soft limit on open files to the hard one: the node and the fleets
// (children inherit it) each hold one socket per stream.
func raiseNoFile() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

func createProbeCell(ctx context.Context, c *client.Client) (string, error) {
	u := fmt.Sprintf("%08x-0000-4000-8000-%012x", rand.Uint32(), rand.Uint64()&0xffffffffffff)
	cell, err := c.CreateCell(ctx, api.CellCreate{UUID: u, Name: "probe", TransportURL: "rabbit://probe-" + u + "/",
		DatabaseConnection: "mysql://probe-" + u + "/nova"})
	if err != nil {
		return "", fmt.Errorf("create probe cell: %w", err)
	}
	return cell.UUID, nil
}

// preloadStore bulk-writes n mappings (keys apart from the creates').
func preloadStore(ctx context.Context, n int, t Target) error {
	c := DefaultConfig()
	c.Workload, c.Concurrency, c.Duration, c.Count, c.Keys, c.Warmup = WorkloadBulk, 4, 0, int64(n), n, 0
	c.BatchSize = 100 // etcd refuses transactions of more than 128 operations by default
	res, err := Run(ctx, c, t)
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	if k := res.ErrorCount(); k > 0 {
		return fmt.Errorf("preload: %d batches failed (%v)", k, res.ErrorSamples)
	}
	return nil
}

// createThroughput runs closed-loop creates for ThroughputFor and returns creates per second
// and the CPU time per create (µs) of the server process pid (0: not measured).
func createThroughput(ctx context.Context, cfg *WatchBenchConfig, t Target, pid int) (float64, float64, error) {
	c := DefaultConfig()
	c.Workload, c.Concurrency, c.Duration, c.Count, c.Warmup = WorkloadCreate, cfg.Concurrency, cfg.ThroughputFor, 0, time.Second
	if pid > 0 {
		c.ServerPIDs = []int{pid}
	}
	res, err := Run(ctx, c, t)
	if err != nil {
		return 0, 0, err
	}
	if n := res.ErrorCount(); n > 0 {
		return 0, 0, fmt.Errorf("creates failed: %d (%v)", n, res.ErrorSamples)
	}
	return res.OpsPerSec, res.ServerCPUPerOpUs, nil
}

// settle gives the streams' setup garbage a moment to become garbage before a measurement.
func settle(ctx context.Context) {
	select {
	case <-time.After(2 * time.Second):
	case <-ctx.Done():
	}
}

// LiveMemory is a Go server's heap in use plus goroutine stacks right after a collection,
// which its pprof endpoint (base URL) forces for a heap profile with gc=1; 0 when unknown.
func LiveMemory(ctx context.Context, base string) int64 {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, "GET", base+"/debug/pprof/heap?debug=1&gc=1", nil)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var live int64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var n int64
		if _, err := fmt.Sscanf(sc.Text(), "# HeapInuse = %d", &n); err == nil {
			live += n
		} else if _, err := fmt.Sscanf(sc.Text(), "# Stack = %d", &n); err == nil {
			live += n
		}
	}
	return live
}

// ProcessMemory is the resident memory (VmRSS) of process pid.
func ProcessMemory(pid int) int64 {
	m, err := readMemory(pid)
	if err != nil {
		return 0
	}
	return m.rss
}

// fleetProc is one fleet process.
type fleetProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	ready int64
}

func startFleets(ctx context.Context, cfg *WatchBenchConfig, sys WatchSystem) ([]*fleetProc, error) {
	var out []*fleetProc
	for i := range cfg.Procs {
		n := cfg.Watchers / cfg.Procs
		if i < cfg.Watchers%cfg.Procs {
			n++
		}
		args := append(sys.FleetArgs(n), "--max", (cfg.Duration + 5*time.Minute).String())
		cmd := exec.CommandContext(ctx, cfg.Self, args...)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return out, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return out, err
		}
		if err := cmd.Start(); err != nil {
			return out, err
		}
		out = append(out, &fleetProc{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)})
	}
	for _, f := range out {
		var r struct{ Ready, Failed int64 }
		if err := f.readLine(&r); err != nil {
			return out, fmt.Errorf("fleet: %w", err)
		}
		f.ready = r.Ready
	}
	return out, nil
}

func (f *fleetProc) readLine(v any) error {
	line, err := f.out.ReadBytes('\n')
	if err != nil {
		return err
	}
	return json.Unmarshal(line, v)
}

// finish ends the fleet and returns its report.
func (f *fleetProc) finish() (*FleetReport, error) {
	f.stdin.Close()
	var rep FleetReport
	err := f.readLine(&rep)
	_ = f.cmd.Wait()
	f.stdin = nil
	return &rep, err
}

func stopFleets(fs []*fleetProc) {
	for _, f := range fs {
		if f.stdin != nil {
			f.stdin.Close()
			_ = f.cmd.Process.Kill()
			_ = f.cmd.Wait()
		}
	}
}

// fanOut writes Rate creates per second and a probe every ProbeEvery for Duration.
func fanOut(parent context.Context, cfg *WatchBenchConfig, sys WatchSystem, rep *WatchBenchReport) error {
	t := sys.Target()
	ctx, cancel := context.WithTimeout(parent, cfg.Duration)
	defer cancel()
	tokens := make(chan struct{}, cfg.Rate)
	var sent, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	prefix := 0xd0000000 | uint32(rand.Uint64()&0x0fffffff)
	for w := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range tokens {
				i := sent.Add(1)
				if _, err := t.Create(ctx, w, NewMapping(uuidOf(prefix, uint64(i)), int(i), DefaultConfig().ValueSize)); err != nil && ctx.Err() == nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	start := time.Now()
	go pace(ctx, cfg.Rate, tokens)
	probe := time.NewTicker(cfg.ProbeEvery)
	defer probe.Stop()
	rep.acks = map[int64]time.Duration{}
	writes := NewHistogram()
	defer func() { rep.ProbeWrite = writes.Summary() }()
	var probeErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-probe.C:
			sentAt := time.Now()
			name := fmt.Sprintf("%s%d", ProbePrefix, sentAt.UnixNano())
			pctx, pcancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := sys.Probe(pctx, name)
			pcancel()
			if err == nil {
				ack := time.Since(sentAt)
				rep.acks[sentAt.UnixNano()] = ack
				writes.Record(ack)
			}
			if err != nil {
				probeErr = err
				break loop
			}
			rep.ProbesSent++
		}
	}
	wg.Wait()
	rep.WritesSent, rep.WriteRate = sent.Load()-failed.Load(), float64(sent.Load()-failed.Load())/time.Since(start).Seconds()
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d background creates failed, e.g. %v", n, firstErr.Load())
	}
	if probeErr != nil {
		return fmt.Errorf("probe write: %w", probeErr)
	}
	// The last probes get a bounded window to arrive everywhere; later ones count as lost
	// (ProbesDelivered below ProbesSent × Connected). ctx has ended by now: wait on parent.
	select {
	case <-time.After(2 * time.Second):
	case <-parent.Done():
	}
	return nil
}

// pace puts rate tokens per second into tokens until ctx ends, then closes it.
func pace(ctx context.Context, rate int, tokens chan<- struct{}) {
	defer close(tokens)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	var issued int64
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			due := int64(now.Sub(start).Seconds() * float64(rate))
			for ; issued < due; issued++ {
				select {
				case tokens <- struct{}{}:
				default: // the writers are behind: the rate is not reached, and it shows
				}
			}
		}
	}
}

func readToken(path string) (string, error) {
	if path == "" {
		return "", errors.New("--token-file is required")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
