package floor

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cellmap/cellmap/bench"
	iproc "github.com/cellmap/cellmap/internal/proc"
)

// Config configures a floor run.
type Config struct {
	// Nodes is the cluster size (3).
	Nodes int
	// Dir holds the nodes' data (a temporary directory when empty; removed after the run).
	Dir string
	// Node is the load every node gets (its leader runs it).
	Node NodeConfig
}

// DefaultConfig is three nodes, 64 appliers, 200-byte commands, the bbolt state machine,
// 2 s warm-up, 10 s measured.
func DefaultConfig() Config {
	return Config{Nodes: 3, Node: NodeConfig{FSM: FSMBbolt, Concurrency: 64, Size: 200, Warmup: 2 * time.Second, Duration: 10 * time.Second}}
}

// Validate checks the run's settings (the nodes' own are checked as they start).
func (c *Config) Validate() error {
	if c.Nodes < 1 || c.Nodes > 7 {
		return fmt.Errorf("floor: a cluster of %d nodes (want 1 to 7)", c.Nodes)
	}
	return c.Node.validateLoad()
}

// Result is a floor run's outcome.
type Result struct {
	Nodes       int           `json:"nodes"`
	FSM         string        `json:"fsm"`
	Concurrency int           `json:"concurrency"`
	Size        int           `json:"size"`
	Leader      string        `json:"leader"`
	Ops         int64         `json:"ops"`
	Errors      int64         `json:"errors"`
	Seconds     float64       `json:"seconds"`
	OpsPerSec   float64       `json:"ops_per_sec"`
	Latency     bench.Latency `json:"latency"`
	// CPUSeconds is the CPU time of every node process in the measured window; CPUPerOpUS
	// that per applied command.
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUPerOpUS float64 `json:"cpu_per_op_us"`
}

// Launcher starts one floor node with args (NodeFlags) writing its lines to out; it
// returns the process id whose CPU time counts and how to stop the node.
type Launcher func(args []string, out io.Writer) (pid int, stop func(), err error)

// ProcessLauncher runs each node as bin with "raft-floor-node" and args, in a process
// group of its own (killed with its parent).
func ProcessLauncher(bin string) Launcher {
	return func(args []string, out io.Writer) (int, func(), error) {
		p, err := iproc.Start(iproc.Spec{Argv: append([]string{bin, "raft-floor-node"}, args...), Out: out})
		if err != nil {
			return 0, nil, err
		}
		return p.Pid(), func() { _ = p.Kill() }, nil
	}
}

// Run starts cfg.Nodes floor nodes, waits for the leader's result and stops them all.
func Run(ctx context.Context, cfg Config, launch Launcher) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, bench.MaxDuration)
	defer cancel()
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "cellmap-floor-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	args, err := floorArgs(cfg, dir)
	if err != nil {
		return nil, err
	}
	lines, done := make(chan floorLine, 2*cfg.Nodes), make(chan struct{})
	var pids []int
	var stops []func()
	defer func() {
		close(done) // the scanners drop what the nodes still say, so no node blocks on its output
		for _, stop := range stops {
			stop()
		}
	}()
	for _, a := range args {
		pr, pw := io.Pipe()
		go scanFloorLines(pr, lines, done)
		pid, stop, err := launch(a, pw)
		if err != nil {
			pw.Close()
			return nil, err
		}
		stops = append(stops, func() { stop(); pw.Close() })
		pids = append(pids, pid)
	}
	return collectFloor(ctx, cfg, pids, lines)
}

// floorArgs returns each node's arguments: its own id, directory and address, the shared load.
func floorArgs(cfg Config, dir string) ([][]string, error) {
	var peers []string
	for i := range cfg.Nodes {
		addr, err := bench.FreeAddr()
		if err != nil {
			return nil, err
		}
		peers = append(peers, fmt.Sprintf("n%d=%s", i+1, addr))
	}
	n := cfg.Node
	var out [][]string
	for i, p := range peers {
		id, addr, _ := strings.Cut(p, "=")
		d := filepath.Join(dir, id)
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
		a := []string{"--id", id, "--dir", d, "--raft", addr, "--peers", strings.Join(peers, ","),
			"--fsm", n.FSM, "--concurrency", fmt.Sprint(n.Concurrency), "--size", fmt.Sprint(n.Size),
			"--warmup", n.Warmup.String(), "--duration", n.Duration.String()}
		if i == 0 {
			a = append(a, "--bootstrap")
		}
		out = append(out, a)
	}
	return out, nil
}

// scanFloorLines forwards the JSON lines of a node's output until done; other lines are the
// node's logs. It reads to the end, so the node's writes never block.
func scanFloorLines(r io.Reader, lines chan<- floorLine, done <-chan struct{}) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var l floorLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Event != "" {
			select {
			case lines <- l:
			case <-done:
			}
		}
	}
	_, _ = io.Copy(io.Discard, r) // a line over the scanner's limit: keep the writer unblocked
}

// floorSlack is how long past its warm-up (or window) a leader may take to open its measured
// window (or report): an election, a slow machine.
const floorSlack = 30 * time.Second

// collectFloor samples the nodes' CPU at the leader's "start" line and at its result.
func collectFloor(ctx context.Context, cfg Config, pids []int, lines <-chan floorLine) (*Result, error) {
	var cpu0 float64
	started := false
	deadline := time.NewTimer(cfg.Node.Warmup + floorSlack)
	defer deadline.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("floor: no result: %w", ctx.Err())
		case <-deadline.C:
			if !started {
				return nil, fmt.Errorf("floor: no leader opened its window within %v", cfg.Node.Warmup+floorSlack)
			}
			return nil, fmt.Errorf("floor: no result within %v of the window", cfg.Node.Duration+floorSlack)
		case l := <-lines:
			cpu, err := bench.ProcessCPU(pids)
			if err != nil {
				return nil, err
			}
			switch {
			case l.Event == "start":
				cpu0, started = cpu, true
				deadline.Reset(cfg.Node.Duration + floorSlack)
			case l.Event == "result" && l.Error != "":
				return nil, fmt.Errorf("floor: leader %s: %s", l.Node, l.Error)
			case l.Event == "result" && !started:
				return nil, errors.New("floor: a result without a start")
			case l.Event == "result":
				return floorResult(cfg, l, cpu-cpu0), nil
			}
		}
	}
}

func floorResult(cfg Config, l floorLine, cpu float64) *Result {
	r := &Result{Nodes: cfg.Nodes, FSM: cfg.Node.FSM, Concurrency: cfg.Node.Concurrency, Size: cfg.Node.Size,
		Leader: l.Node, Ops: l.Ops, Errors: l.Errors, Seconds: l.Seconds, Latency: l.Latency, CPUSeconds: cpu}
	if l.Seconds > 0 {
		r.OpsPerSec = float64(l.Ops) / l.Seconds
	}
	if l.Ops > 0 {
		r.CPUPerOpUS = cpu / float64(l.Ops) * 1e6
	}
	return r
}

// WriteTable writes the result as one table row with its header.
func (r *Result) WriteTable(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%-6s %-5s %11s %8s %10s %10s %10s %10s %12s\n%-6s %-5d %11d %8d %10.0f %10s %10s %10s %12.0f\n",
		"fsm", "conc", "ops", "errors", "ops/s", "p50 ms", "p99 ms", "max ms", "cpu µs/op",
		r.FSM, r.Concurrency, r.Ops, r.Errors, r.OpsPerSec, msOf(r.Latency.P50), msOf(r.Latency.P99), msOf(r.Latency.Max), r.CPUPerOpUS)
	return err
}

// Command is "cellmap-bench raft-floor": a floor run with the nodes as child processes
// of bin (this program).
func Command(ctx context.Context, prog, bin string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(prog+" raft-floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := DefaultConfig()
	fs.IntVar(&cfg.Nodes, "nodes", cfg.Nodes, "cluster size")
	fs.StringVar(&cfg.Dir, "dir", "", "data directory (default: a temporary one, removed after)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	floorLoadFlags(fs, &cfg.Node)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "%s raft-floor: %v\n", prog, err)
		return 2
	}
	res, err := Run(ctx, cfg, ProcessLauncher(bin))
	if err != nil {
		fmt.Fprintf(stderr, "%s raft-floor: %v\n", prog, err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	} else {
		err = res.WriteTable(stdout)
	}
	if err != nil {
		return 1
	}
	return 0
}

// NodeCommand is "cellmap-bench raft-floor-node" (started by raft-floor).
func NodeCommand(ctx context.Context, prog string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(prog+" raft-floor-node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg NodeConfig
	NodeFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "%s raft-floor-node: %v\n", prog, err)
		return 2
	}
	if err := RunNode(ctx, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "%s raft-floor-node: %v\n", prog, err)
		return 1
	}
	return 0
}

// msOf formats microseconds as milliseconds.
func msOf(us int64) string { return fmt.Sprintf("%.3f", float64(us)/1000) }
