package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/poll"
)

// ScaleConfig is the scale run: a local cellmapd cluster loaded with Mappings mappings.
type ScaleConfig struct {
	// Cellmapd is the server binary.
	Cellmapd string
	// Dir holds the nodes' data dirs and logs ("": a temporary dir, removed unless Keep).
	Dir  string
	Keep bool
	// Nodes is the cluster size; RaftProfile the servers' --raft-profile (lan or test).
	Nodes       int
	RaftProfile string
	// Mappings are loaded through transactions of BatchSize, Concurrency batches in flight.
	Mappings    int
	BatchSize   int
	Concurrency int
	ValueSize   int
	// TrailingLogs and SnapshotThreshold must match the servers' raft profile (lan: 20480
	// and 16384): the follower catch-up writes until the leader has compacted past it.
	TrailingLogs      uint64
	SnapshotThreshold uint64
	// CatchupConcurrency is the clients writing while a follower is down; MaxCatchupWrites
	// bounds their writes.
	CatchupConcurrency int
	MaxCatchupWrites   int
	// Timeout bounds the whole run.
	Timeout time.Duration
	// Progress, when set, receives one line per step.
	Progress func(format string, args ...any)
}

// DefaultScaleConfig returns the scale run: 1,000,000 mappings in 3 nodes.
func DefaultScaleConfig() *ScaleConfig {
	return &ScaleConfig{Cellmapd: "bin/cellmapd", Nodes: 3, RaftProfile: "lan", Mappings: 1_000_000, BatchSize: 1000, Concurrency: 4,
		ValueSize: 36, TrailingLogs: 20480, SnapshotThreshold: 16384, CatchupConcurrency: 64,
		MaxCatchupWrites: 200_000, Timeout: 25 * time.Minute}
}

// Validate checks the configuration.
func (c *ScaleConfig) Validate() error {
	switch {
	case c.Cellmapd == "":
		return fmt.Errorf("%w: the cellmapd binary is required", ErrInvalidConfig)
	case c.Nodes < 3 || c.Nodes > 7:
		return fmt.Errorf("%w: nodes must be in 3..7", ErrInvalidConfig)
	case c.RaftProfile != "lan" && c.RaftProfile != "test":
		return fmt.Errorf("%w: raft profile must be lan or test", ErrInvalidConfig)
	case c.Mappings < 1 || c.Mappings > MaxKeys:
		return fmt.Errorf("%w: mappings must be in 1..%d", ErrInvalidConfig, MaxKeys)
	case c.BatchSize < 1 || c.BatchSize > MaxBatchSize || c.Concurrency < 1 || c.CatchupConcurrency < 1:
		return fmt.Errorf("%w: batch size must be in 1..%d, concurrencies positive", ErrInvalidConfig, MaxBatchSize)
	case c.ValueSize < 1 || c.ValueSize > MaxValueSize:
		return fmt.Errorf("%w: value size must be in 1..%d", ErrInvalidConfig, MaxValueSize)
	case c.TrailingLogs == 0 || c.SnapshotThreshold == 0 || c.MaxCatchupWrites <= int(c.TrailingLogs):
		return fmt.Errorf("%w: need trailing logs, snapshot threshold, and max catch-up writes above trailing logs", ErrInvalidConfig)
	case c.Timeout <= 0 || c.Timeout > 60*time.Minute:
		return fmt.Errorf("%w: timeout must be in (0, 60m]", ErrInvalidConfig)
	}
	return nil
}

// Scale runs the scale scenario and returns its figures. Every process it started is
// stopped before it returns.
func Scale(ctx context.Context, cfg *ScaleConfig) (rep *ScaleReport, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	dir := cfg.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "cellmap-scale-"); err != nil {
			return nil, err
		}
		if !cfg.Keep {
			defer os.RemoveAll(dir)
		}
	}
	lc, err := newLocalCluster(cfg.Cellmapd, dir, cfg.RaftProfile, cfg.Nodes)
	if err != nil {
		return nil, err
	}
	defer lc.stopAll()
	s := &scaleRun{cfg: cfg, lc: lc, rep: &ScaleReport{Nodes: cfg.Nodes, RaftProfile: cfg.RaftProfile, Mappings: cfg.Mappings, BatchSize: cfg.BatchSize,
		Concurrency: cfg.Concurrency, Dir: dir}}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"start the cluster", s.boot},
		{"load the mappings", s.load},
		{"measure files and memory, compare state checksums", s.measureFiles},
		{"lookups on the loaded cluster", s.lookups},
		{"restart a follower", func(ctx context.Context) error { return s.restart(ctx, false) }},
		{"restart the leader", func(ctx context.Context) error { return s.restart(ctx, true) }},
		{"follower catch-up through a snapshot", s.catchup},
		{"final files and memory", s.measureEnd},
	}
	for _, st := range steps {
		s.progress("%s ...", st.name)
		t0 := time.Now()
		if err := st.fn(ctx); err != nil {
			s.rep.Snapshots = snapshotTimes(lc)
			return s.rep, fmt.Errorf("bench: scale: %s: %w", st.name, err)
		}
		s.progress("%s: done in %.1f s", st.name, time.Since(t0).Seconds())
	}
	s.rep.Snapshots = snapshotTimes(lc)
	return s.rep, nil
}

type scaleRun struct {
	cfg *ScaleConfig
	lc  *localCluster
	rep *ScaleReport
}

func (s *scaleRun) progress(format string, args ...any) {
	if s.cfg.Progress != nil {
		s.cfg.Progress(format, args...)
	}
}

func (s *scaleRun) boot(ctx context.Context) error {
	if err := s.lc.boot(ctx); err != nil {
		return err
	}
	return NewCellmapTarget(s.lc.endpoints(), s.lc.token).Setup(ctx)
}

func (s *scaleRun) runConfig(workload string, endpoints []string) *Config {
	c := DefaultConfig()
	c.Endpoints, c.Workload, c.Keys, c.ValueSize = endpoints, workload, s.cfg.Mappings, s.cfg.ValueSize
	c.BatchSize, c.OpTimeout, c.Duration = s.cfg.BatchSize, 60*time.Second, 0
	return c
}

func (s *scaleRun) load(ctx context.Context) error {
	cfg := s.runConfig(WorkloadBulk, s.lc.endpoints())
	cfg.Count, cfg.Concurrency = int64(s.cfg.Mappings), s.cfg.Concurrency
	res, err := runMeasured(ctx, cfg, NewCellmapTarget(cfg.Endpoints, s.lc.token), newRevisions(1))
	if err != nil {
		return err
	}
	s.rep.Load = res
	if res.Items != int64(s.cfg.Mappings) {
		return fmt.Errorf("loaded %d of %d mappings (errors %v, e.g. %v)", res.Items, s.cfg.Mappings, res.Errors, res.ErrorSamples)
	}
	t0 := time.Now()
	if err := s.waitApplied(ctx, nil, 5*time.Minute, false); err != nil {
		return err
	}
	s.rep.ReplicatedSec = time.Since(t0).Seconds()
	return nil
}

// measureFiles records sizes and memory after the load, then checks that every node holds the
// same state (after the measurement: the checksum reads all of fsm.db through the mmap).
func (s *scaleRun) measureFiles(ctx context.Context) error {
	s.rep.AfterLoad = s.nodeFiles()
	return s.waitConverged(ctx, nil, 5*time.Minute)
}

func (s *scaleRun) measureEnd(ctx context.Context) error {
	s.rep.AtEnd = s.nodeFiles()
	return nil
}

func (s *scaleRun) nodeFiles() []NodeFiles {
	var out []NodeFiles
	for _, nd := range s.lc.nodes {
		f := NodeFiles{Node: nd.id, FSMBytes: fileSize(filepath.Join(nd.dir, "fsm.db")),
			RaftBytes: fileSize(filepath.Join(nd.dir, "raft.db")), SnapshotBytes: dirSize(filepath.Join(nd.dir, "snapshots"))}
		if nd.p != nil {
			m, _ := nd.p.memory()
			f.RSSBytes, f.RSSAnonBytes, f.RSSFileBytes = m.rss, m.anon, m.file
		}
		out = append(out, f)
	}
	return out
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

func (s *scaleRun) lookups(ctx context.Context) error {
	for _, w := range []string{WorkloadLookup, WorkloadLookupStale} {
		cfg := s.runConfig(w, s.lc.endpoints())
		cfg.Concurrency, cfg.Duration, cfg.OpTimeout = 16, 3*time.Second, 10*time.Second
		res, err := runMeasured(ctx, cfg, NewCellmapTarget(cfg.Endpoints, s.lc.token), newRevisions(1))
		if err != nil {
			return err
		}
		s.rep.Lookups = append(s.rep.Lookups, res)
	}
	return nil
}

// restart kills a follower (or the leader) with SIGKILL, starts it again on its data dir and
// times its first linearizable read.
func (s *scaleRun) restart(ctx context.Context, leader bool) error {
	if err := WaitSecureCluster(ctx, s.lc.endpoints(), s.cfg.Nodes, 60*time.Second, &Security{TokenFile: s.lc.tokenFile}); err != nil {
		return err
	}
	nd := s.pick(ctx, leader)
	if nd == nil {
		return ErrNotReady
	}
	nd.p.kill()
	r := Restart{Node: nd.id, WasLeader: leader}
	t0 := time.Now()
	if err := s.lc.start(nd); err != nil {
		return err
	}
	key := Key(rand.IntN(s.cfg.Mappings))
	err := poll.Until(ctx, 2*time.Minute, func(c context.Context) bool {
		if r.HTTPUpSec == 0 {
			if _, err := nd.c.Do(c, http.MethodGet, "/healthz", nil, nil, nil); err == nil {
				r.HTTPUpSec = time.Since(t0).Seconds()
			}
		}
		_, _, err := nd.c.InstanceMapping(c, key)
		return err == nil
	})
	r.ReadSec = time.Since(t0).Seconds()
	if err != nil {
		return fmt.Errorf("%s never served a linearizable read: %w", nd.id, err)
	}
	m, _ := nd.p.memory()
	r.RSSBytes, r.RSSAnonBytes, r.RSSFileBytes = m.rss, m.anon, m.file
	s.rep.Restarts = append(s.rep.Restarts, r)
	return nil
}

// pick returns the leader, or a follower.
func (s *scaleRun) pick(ctx context.Context, leader bool) *localNode {
	l := s.lc.leader(ctx)
	if leader || l == nil {
		return l
	}
	for _, nd := range s.lc.nodes {
		if nd != l {
			return nd
		}
	}
	return nil
}

// appliedIndex reads a node's applied index from the header of a cheap stale read (the
// status endpoint would compute a full-state checksum).
func appliedIndex(ctx context.Context, nd *localNode) (uint64, error) {
	c, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, m, err := nd.c.InstanceMapping(c, Key(0), client.Stale(0))
	if err != nil && !client.IsNotFound(err) {
		return 0, err
	}
	return m.Index, nil
}

// waitConverged waits until every node (or only those given) applied the leader's index and,
// at that index, has the leader's state checksum.
func (s *scaleRun) waitConverged(ctx context.Context, nodes []*localNode, timeout time.Duration) error {
	return s.waitApplied(ctx, nodes, timeout, true)
}

// waitApplied waits until every node (or only those given) applied the leader's index, and
// with checksum also has the leader's state checksum at that index (the status endpoint
// digests the whole state, reading every page of fsm.db).
func (s *scaleRun) waitApplied(ctx context.Context, nodes []*localNode, timeout time.Duration, checksum bool) error {
	if nodes == nil {
		nodes = s.lc.nodes
	}
	return poll.Until(ctx, timeout, func(c context.Context) bool {
		l := s.lc.leader(c)
		if l == nil {
			return false
		}
		want, err := appliedIndex(c, l)
		if err != nil {
			return false
		}
		for _, nd := range nodes {
			if idx, err := appliedIndex(c, nd); err != nil || idx < want {
				return false
			}
		}
		return !checksum || s.sameChecksum(ctx, l, nodes)
	})
}

func (s *scaleRun) sameChecksum(ctx context.Context, l *localNode, nodes []*localNode) bool {
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ls, err := l.c.ClusterStatus(c)
	if err != nil {
		return false
	}
	for _, nd := range nodes {
		st, err := nd.c.ClusterStatus(c)
		if err != nil || st.FSMChecksumIdx != ls.FSMChecksumIdx || st.FSMChecksum != ls.FSMChecksum {
			return false
		}
	}
	return true
}

var errCatchupBound = errors.New("bench: catch-up writes reached their bound before the leader compacted past the follower")
