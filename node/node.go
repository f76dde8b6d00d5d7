package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/transport"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	bolt "go.etcd.io/bbolt"
)

// Node is one cluster member.
type Node struct {
	cfg    Config
	logger hclog.Logger

	fsm       *fsm.FSM
	raft      *raft.Raft
	logStore  *raftboltdb.BoltStore
	snapshots *raft.FileSnapshotStore
	mux       *transport.Mux
	trans     *raft.NetworkTransport
	client    *http.Client
	// applyRPC, tracedApplyRPC and readIndexRPC reach the leader's raft port.
	applyRPC, tracedApplyRPC, readIndexRPC *transport.RPCClient
	// serverTLS and clientTLS secure node-to-node traffic (nil without TLS).
	serverTLS, clientTLS *tls.Config

	notifyCh  chan bool
	readyTerm atomic.Uint64
	ready     *signal
	verify    *coalescer   // leader: one VerifyLeader round for concurrent reads
	contact   contactClock // leader: when a quorum last confirmed it
	remoteIdx *coalescer   // follower: one read-index request to the leader for concurrent reads

	metaMu      sync.Mutex
	metaCache   map[string]transport.Meta // raft address → meta
	logVersions map[string]uint64         // raft address → newest log version it reads
	// learningLeader is set while LeaderHTTPAddr asks the leader for its HTTP address.
	learningLeader atomic.Bool

	leaders leaderWatch
	// autopilot is the autopilot RunAutopilot runs (nil when it does not).
	autopilot atomic.Pointer[autopilotRun]
	// raftStarted is set once raft runs: the raft port answers metadata queries before.
	raftStarted atomic.Bool

	freshJoin bool
	// stateCheck is what the start-up check found in the state file (statefile.go), and
	// catchUpTo, after a rebuild, the last index of the log and snapshots at start: stale
	// reads are served linearizably until the state has applied it.
	stateCheck StateCheck
	catchUpTo  uint64
	done       chan struct{}
	wg         sync.WaitGroup
	closeOnce  sync.Once
}

// streamLayer adapts the transport mux to raft's StreamLayer.
type streamLayer struct{ *transport.RaftLayer }

func (s streamLayer) Dial(a raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return s.RaftLayer.Dial(string(a), timeout)
}

// New opens the node's stores and starts raft. Call Start to join a cluster, Shutdown to stop.
func New(cfg *Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	serverTLS, clientTLS := cfg.peerTLS()
	hcfg := transport.DefaultHTTPConfig()
	hcfg.TLS = clientTLS
	n := &Node{cfg: *cfg, logger: cfg.Logger, notifyCh: make(chan bool, 16), ready: newSignal(),
		metaCache: map[string]transport.Meta{}, logVersions: map[string]uint64{}, done: make(chan struct{}), client: transport.NewHTTPClient(hcfg),
		applyRPC:       transport.NewRPCClient(transport.ProtoApply, 128, cfg.Faults, clientTLS),
		readIndexRPC:   transport.NewRPCClient(transport.ProtoReadIndex, 2, cfg.Faults, clientTLS),
		tracedApplyRPC: transport.NewRPCClient(transport.ProtoApplyTraced, 128, cfg.Faults, clientTLS),
		serverTLS:      serverTLS, clientTLS: clientTLS}
	if n.logger == nil {
		n.logger = hclog.NewNullLogger()
	}
	n.verify = newCoalescer(n.verifyLeader)
	n.remoteIdx = newCoalescer(n.fetchRemoteReadIndex)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	if err := n.openStores(); err != nil {
		n.closeStores()
		return nil, err
	}
	if err := n.startRaft(); err != nil {
		n.closeStores()
		return nil, err
	}
	n.wg.Add(1)
	go n.leaderLoop()
	return n, nil
}

// openStores opens the raft log and the snapshots, then the state file, which is checked
// against them (statefile.go).
func (n *Node) openStores() error {
	var err error
	n.logStore, err = raftboltdb.New(raftboltdb.Options{
		Path:        filepath.Join(n.cfg.DataDir, "raft.db"),
		BoltOptions: &bolt.Options{Timeout: 2 * time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType},
	})
	if err != nil {
		return fmt.Errorf("node: open raft log: %w", err)
	}
	n.snapshots, err = raft.NewFileSnapshotStoreWithLogger(n.cfg.DataDir, 2, n.logger.Named("snapshot"))
	if err != nil {
		return fmt.Errorf("node: open snapshots: %w", err)
	}
	if err := n.seedFromBackup(); err != nil {
		return err
	}
	return n.openState()
}

func (n *Node) raftConfig() *raft.Config {
	r := n.cfg.Raft
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(n.cfg.NodeID)
	rc.Logger = n.logger.Named("raft")
	rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = r.HeartbeatTimeout, r.ElectionTimeout, r.LeaderLeaseTimeout
	rc.CommitTimeout, rc.MaxAppendEntries, rc.BatchApplyCh = r.CommitTimeout, r.MaxAppendEntries, true
	rc.SnapshotInterval, rc.SnapshotThreshold, rc.TrailingLogs = r.SnapshotInterval, r.SnapshotThreshold, r.TrailingLogs
	rc.NoSnapshotRestoreOnStart = true
	rc.ShutdownOnRemove = false
	rc.NoLegacyTelemetry = true
	rc.NotifyCh = n.notifyCh
	return rc
}

func (n *Node) startRaft() error {
	ln, err := net.Listen("tcp", n.cfg.RaftAddr)
	if err != nil {
		return fmt.Errorf("node: listen raft: %w", err)
	}
	mcfg := transport.DefaultMuxConfig()
	mcfg.RPCTimeout, mcfg.Faults, mcfg.Logger = 2*n.cfg.Raft.ApplyTimeout, n.cfg.Faults, n.logger.Named("mux")
	if n.mux, err = transport.NewMux(transport.TLSListener(ln, n.serverTLS), n.meta, n.rpcHandlers(), mcfg); err != nil {
		ln.Close()
		return fmt.Errorf("node: %w", err)
	}
	n.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: streamLayer{n.mux.RaftLayer(n.clientTLS)}, MaxPool: 8, Timeout: 10 * time.Second,
		Logger: n.logger.Named("transport"),
	})
	logs, err := raft.NewLogCache(512, n.logStore)
	if err != nil {
		return fmt.Errorf("node: log cache: %w", err)
	}
	existing, err := raft.HasExistingState(logs, n.logStore, n.snapshots)
	if err != nil {
		return fmt.Errorf("node: inspect raft state: %w", err)
	}
	n.raft, err = raft.NewRaft(n.raftConfig(), n.fsm, logs, n.logStore, n.snapshots, n.trans)
	if err != nil {
		return fmt.Errorf("node: start raft: %w", err)
	}
	n.watchLeaders()
	n.raftStarted.Store(true)
	switch {
	case existing:
		n.logger.Info("restarting on existing state", "applied", n.fsm.AppliedIndex())
	case n.cfg.Bootstrap:
		n.logger.Info("bootstrapping a one-node cluster", "id", n.cfg.NodeID)
		err = n.raft.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{
			Suffrage: raft.Voter, ID: raft.ServerID(n.cfg.NodeID), Address: raft.ServerAddress(n.cfg.advertise()),
		}}}).Error()
		if err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			return fmt.Errorf("node: bootstrap: %w", err)
		}
	default:
		n.freshJoin = len(n.cfg.Join) > 0
	}
	return nil
}

func (n *Node) meta() transport.Meta {
	m := transport.Meta{NodeID: n.cfg.NodeID, HTTPAddr: n.cfg.HTTPAddr, LogVersion: fsm.LogVersion, AppliedIndex: n.fsm.AppliedIndex(),
		TracedApply: true}
	m.LastLogIndex, m.LastLogTerm, m.LastContactNS = n.raftProgress()
	return m
}

// raftProgress is this node's last log entry and the time since it last heard from a leader
// (0 when it leads, -1 never).
func (n *Node) raftProgress() (index, term uint64, contactNS int64) {
	if !n.raftStarted.Load() {
		return 0, 0, -1
	}
	stats := n.raft.Stats()
	index, _ = strconv.ParseUint(stats["last_log_index"], 10, 64)
	term, _ = strconv.ParseUint(stats["last_log_term"], 10, 64)
	switch {
	case n.IsLeader():
		return index, term, 0
	case n.raft.LastContact().IsZero():
		return index, term, -1
	}
	return index, term, max(time.Since(n.raft.LastContact()).Nanoseconds(), 0)
}

// Start asks the members in Config.Join for admission when this is a first start; it retries
// until ctx ends. On a restart or a bootstrap it returns at once.
func (n *Node) Start(ctx context.Context) error {
	if !n.freshJoin {
		return nil
	}
	return n.joinCluster(ctx)
}

// ID returns the node id.
func (n *Node) ID() string { return n.cfg.NodeID }

// RaftAddr returns the address raft listens on (useful with port 0).
func (n *Node) RaftAddr() string { return n.mux.Addr().String() }

// IsLeader reports whether this node currently believes it leads.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Shutdown hands leadership to another voter when leading, then stops raft and closes the
// stores.
func (n *Node) Shutdown(ctx context.Context) error {
	var err error
	n.closeOnce.Do(func() {
		if n.IsLeader() {
			n.transferLeadership(ctx)
		}
		close(n.done)
		if e := n.raft.Shutdown().Error(); e != nil {
			err = e
		}
		n.wg.Wait()
		n.trans.Close()
		n.closeStores()
		n.client.CloseIdleConnections()
		n.applyRPC.Close()
		n.readIndexRPC.Close()
		n.tracedApplyRPC.Close()
	})
	return err
}

func (n *Node) transferLeadership(ctx context.Context) {
	cfg := n.raft.GetConfiguration()
	if cfg.Error() != nil || len(cfg.Configuration().Servers) < 2 {
		return
	}
	done := make(chan error, 1)
	go func() { done <- n.raft.LeadershipTransfer().Error() }()
	select {
	case err := <-done:
		if err != nil {
			n.logger.Warn("leadership transfer failed", "error", err)
		} else {
			n.logger.Info("leadership transferred before shutdown")
		}
	case <-ctx.Done():
		n.logger.Warn("leadership transfer did not finish before the shutdown deadline")
	}
}

func (n *Node) closeStores() {
	if n.mux != nil {
		n.mux.Close()
	}
	if n.logStore != nil {
		n.logStore.Close()
	}
	if n.fsm != nil {
		n.fsm.Close()
	}
}
