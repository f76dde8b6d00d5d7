package floor

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/cellmap/cellmap/bench"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellmap/cellmap/node"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	bolt "go.etcd.io/bbolt"
)

// NodeConfig is one node of the raft floor benchmark (RunNode): a hashicorp/raft
// server on raft-boltdb with cellmap's production raft settings, a TCP transport and a
// minimal state machine. The node that leads runs the load: Concurrency goroutines each
// applying commands of Size bytes back to back, Warmup unmeasured and then Duration measured.
type NodeConfig struct {
	ID, Dir, Addr string
	// Peers lists every voter as id=address, this node included.
	Peers       []string
	Bootstrap   bool
	FSM         string
	Concurrency int
	Size        int
	Warmup      time.Duration
	Duration    time.Duration
}

// floorLine is what a floor node writes to its output, one JSON object a line: "start" when
// the measured window opens, then "result" once.
type floorLine struct {
	Event   string        `json:"event"`
	Node    string        `json:"node"`
	Ops     int64         `json:"ops,omitempty"`
	Errors  int64         `json:"errors,omitempty"`
	Seconds float64       `json:"seconds,omitempty"`
	Latency bench.Latency `json:"latency"`
	Error   string        `json:"error,omitempty"`
}

// Validate checks a node's configuration.
func (c *NodeConfig) Validate() error {
	switch {
	case c.ID == "" || c.Dir == "" || c.Addr == "":
		return errors.New("floor: node needs --id, --dir and --raft")
	case len(c.Peers) == 0:
		return errors.New("floor: node needs --peers")
	}
	for _, p := range c.Peers {
		id, addr, ok := strings.Cut(p, "=")
		if !ok || id == "" || addr == "" {
			return fmt.Errorf("floor: peer %q: want id=address", p)
		}
		if err := bench.CheckLoopback(addr); err != nil {
			return err
		}
	}
	if err := bench.CheckLoopback(c.Addr); err != nil {
		return err
	}
	return c.validateLoad()
}

// validateLoad checks the load settings every node of a run shares.
func (c *NodeConfig) validateLoad() error {
	switch {
	case c.FSM != FSMNoop && c.FSM != FSMBbolt:
		return fmt.Errorf("floor: state machine %q (want %s or %s)", c.FSM, FSMNoop, FSMBbolt)
	case c.Concurrency < 1 || c.Size < 16:
		return errors.New("floor: needs a concurrency of at least 1 and commands of at least 16 bytes")
	case c.Duration <= 0 || c.Warmup < 0 || c.Warmup+c.Duration > bench.MaxDuration:
		return fmt.Errorf("floor: duration must be positive and with the warm-up at most %v", bench.MaxDuration)
	}
	return nil
}

// NodeFlags binds a node's flags to c.
func NodeFlags(fs *flag.FlagSet, c *NodeConfig) {
	fs.StringVar(&c.ID, "id", "", "raft server id")
	fs.StringVar(&c.Dir, "dir", "", "data directory")
	fs.StringVar(&c.Addr, "raft", "", "raft listen address (loopback)")
	fs.Func("peers", "every voter as id=address, comma-separated", func(v string) error {
		c.Peers = strings.Split(v, ",")
		return nil
	})
	fs.BoolVar(&c.Bootstrap, "bootstrap", false, "bootstrap the cluster with --peers")
	floorLoadFlags(fs, c)
}

func floorLoadFlags(fs *flag.FlagSet, c *NodeConfig) {
	fs.StringVar(&c.FSM, "fsm", FSMBbolt, "state machine: bbolt (a put per entry, a commit per batch, no fsync) or noop")
	fs.IntVar(&c.Concurrency, "concurrency", 64, "appliers on the leader")
	fs.IntVar(&c.Size, "size", 200, "bytes per command (a create's raft entry is about 110)")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "unmeasured load before the window")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "measured window")
}

// RunNode runs one floor node until ctx ends; if it leads, it runs the load once and
// writes its lines to out.
func RunNode(ctx context.Context, cfg NodeConfig, out io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	r, closeAll, err := startFloorRaft(cfg)
	if err != nil {
		return err
	}
	defer closeAll()
	if cfg.Bootstrap {
		var servers []raft.Server
		for _, p := range cfg.Peers {
			id, addr, _ := strings.Cut(p, "=")
			servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(id), Address: raft.ServerAddress(addr)})
		}
		sort.Slice(servers, func(i, j int) bool { return servers[i].ID < servers[j].ID })
		if err := r.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			return fmt.Errorf("floor: bootstrap: %w", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case leads := <-r.LeaderCh():
			if leads {
				line := floorLoad(ctx, r, cfg, out)
				return json.NewEncoder(out).Encode(line)
			}
		}
	}
}

func startFloorRaft(cfg NodeConfig) (*raft.Raft, func(), error) {
	logger := hclog.New(&hclog.LoggerOptions{Name: "floor." + cfg.ID, Level: hclog.Warn, Output: io.Discard})
	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.Dir, "raft.db"),
		BoltOptions: &bolt.Options{Timeout: 2 * time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType}})
	if err != nil {
		return nil, nil, fmt.Errorf("floor: log: %w", err)
	}
	var fsm raft.FSM = &noopFSM{}
	var closeFSM func() error
	if cfg.FSM == FSMBbolt {
		b, err := openBboltFSM(cfg.Dir)
		if err != nil {
			store.Close()
			return nil, nil, err
		}
		fsm, closeFSM = b, b.close
	}
	cleanup := func() {
		store.Close()
		if closeFSM != nil {
			_ = closeFSM()
		}
	}
	r, err := newFloorRaft(cfg, logger, fsm, store)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return r, func() { _ = r.Shutdown().Error(); cleanup() }, nil
}

func newFloorRaft(cfg NodeConfig, logger hclog.Logger, fsm raft.FSM, store *raftboltdb.BoltStore) (*raft.Raft, error) {
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, 2, logger)
	if err != nil {
		return nil, err
	}
	trans, err := raft.NewTCPTransportWithLogger(cfg.Addr, nil, 8, 10*time.Second, logger)
	if err != nil {
		return nil, err
	}
	logs, err := raft.NewLogCache(512, store)
	if err != nil {
		trans.Close()
		return nil, err
	}
	p := node.LANRaftConfig() // cellmap's production settings
	rc := raft.DefaultConfig()
	rc.LocalID, rc.Logger = raft.ServerID(cfg.ID), logger
	rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = p.HeartbeatTimeout, p.ElectionTimeout, p.LeaderLeaseTimeout
	rc.CommitTimeout, rc.MaxAppendEntries, rc.BatchApplyCh = p.CommitTimeout, p.MaxAppendEntries, true
	rc.SnapshotInterval, rc.SnapshotThreshold, rc.TrailingLogs = p.SnapshotInterval, p.SnapshotThreshold, p.TrailingLogs
	rc.NoLegacyTelemetry = true
	r, err := raft.NewRaft(rc, fsm, logs, store, snaps, trans)
	if err != nil {
		trans.Close()
		return nil, err
	}
	return r, nil
}

// floorLoad applies commands back to back from cfg.Concurrency goroutines; it writes the
// "start" line when the measured window opens and returns the result line.
func floorLoad(ctx context.Context, r *raft.Raft, cfg NodeConfig, out io.Writer) floorLine {
	var measuring atomic.Bool
	stop := make(chan struct{})
	hists := make([]*bench.Histogram, cfg.Concurrency)
	var ops, errs atomic.Int64
	var wg sync.WaitGroup
	for i := range hists {
		hists[i] = bench.NewHistogram()
		wg.Add(1)
		go func(h *bench.Histogram) {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				// A buffer per entry: raft keeps it (the log cache, replication) after Apply.
				cmd := make([]byte, cfg.Size)
				_, _ = rand.Read(cmd[:16]) // a fresh random key, as a create's uuid
				t := time.Now()
				err := r.Apply(cmd, 5*time.Second).Error()
				if !measuring.Load() {
					continue
				}
				if err != nil {
					errs.Add(1)
					continue
				}
				h.Record(time.Since(t))
				ops.Add(1)
			}
		}(hists[i])
	}
	line := floorLine{Event: "result", Node: cfg.ID}
	if waitOrDone(ctx, cfg.Warmup) {
		measuring.Store(true)
		start := time.Now()
		_ = json.NewEncoder(out).Encode(floorLine{Event: "start", Node: line.Node})
		if !waitOrDone(ctx, cfg.Duration) {
			line.Error = "interrupted"
		}
		measuring.Store(false)
		line.Seconds = time.Since(start).Seconds()
	} else {
		line.Error = "interrupted"
	}
	close(stop)
	wg.Wait()
	all := bench.NewHistogram()
	for _, h := range hists {
		all.Merge(h)
	}
	line.Ops, line.Errors, line.Latency = ops.Load(), errs.Load(), all.Summary()
	return line
}

// waitOrDone waits d and reports true, or false when ctx ends first.
func waitOrDone(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
