package node

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cellmap/cellmap/fsm"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// Disaster recovery (`cellmapd recover`), as Consul's peers.json and hashicorp/raft's
// RecoverCluster: when a quorum is lost for good, the survivors' raft configuration is
// rewritten offline to the given peers. RecoverCluster restores the newest snapshot, applies
// every entry of the log after it (committed or not: a survivor may hold entries the lost
// nodes had acknowledged), writes a snapshot holding the new configuration and empties the
// log. Run it with the node stopped, on every survivor with the same peers; then start them.

// Peer is a voter of a recovered configuration.
type Peer struct {
	ID string
	// RaftAddr is where the other peers reach its raft port (its --raft-advertise or
	// --raft-addr).
	RaftAddr string
}

// ParsePeers reads "id=host:port,id=host:port" (the --peers flag).
func ParsePeers(s string) ([]Peer, error) {
	var peers []Peer
	for _, item := range strings.Split(s, ",") {
		id, addr, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || id == "" {
			return nil, fmt.Errorf("peer %q: want id=host:port", item)
		}
		peers = append(peers, Peer{ID: id, RaftAddr: addr})
	}
	return peers, nil
}

// RecoverConfig configures [Recover].
type RecoverConfig struct {
	// NodeID is the id of the node whose data directory this is; it must be one of Peers.
	NodeID string
	// DataDir is the node's data directory (the node must not be running).
	DataDir string
	// Peers is the new configuration: every voter the recovered cluster starts with.
	Peers []Peer
	// Logger receives progress; nil discards.
	Logger hclog.Logger
}

// Validate checks the configuration.
func (c *RecoverConfig) Validate() error {
	switch {
	case c.NodeID == "":
		return errors.New("node: recover: NodeID is required")
	case c.DataDir == "":
		return errors.New("node: recover: DataDir is required")
	case len(c.Peers) == 0:
		return errors.New("node: recover: at least one peer is required")
	}
	ids, addrs, self := map[string]bool{}, map[string]bool{}, false
	for _, p := range c.Peers {
		if err := CheckHostPort(p.RaftAddr, true); err != nil {
			return fmt.Errorf("node: recover: peer %s: %w", p.ID, err)
		}
		if ids[p.ID] || addrs[p.RaftAddr] {
			return fmt.Errorf("node: recover: peer %s=%s: another peer has this id or address", p.ID, p.RaftAddr)
		}
		ids[p.ID], addrs[p.RaftAddr] = true, true
		self = self || p.ID == c.NodeID
	}
	if !self {
		return fmt.Errorf("node: recover: this node, %s, is not one of the peers", c.NodeID)
	}
	return nil
}

// Recover rewrites the raft configuration of the stopped node in cfg.DataDir to cfg.Peers.
// The state file is checked and brought up to the newest snapshot first, as at a start.
func Recover(cfg *RecoverConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if _, err := os.Stat(cfg.DataDir); err != nil {
		return fmt.Errorf("node: recover: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	n := &Node{cfg: Config{NodeID: cfg.NodeID, DataDir: cfg.DataDir, InitialMmapSize: 1 << 30}, logger: logger}
	if err := n.openStores(); err != nil {
		n.closeStores()
		return fmt.Errorf("node: recover (is the node stopped?): %w", err)
	}
	defer n.closeStores()
	rc := raft.DefaultConfig()
	rc.LocalID, rc.Logger = raft.ServerID(cfg.NodeID), logger.Named("raft")
	var conf raft.Configuration
	for _, p := range cfg.Peers {
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.RaftAddr)})
	}
	before := n.fsm.AppliedIndex()
	trans := peerEncoder()
	defer trans.Close()
	if err := raft.RecoverCluster(rc, releasingFSM{n.fsm}, n.logStore, n.logStore, n.snapshots, trans, conf); err != nil {
		return fmt.Errorf("node: recover: %w", err)
	}
	idx, sum, err := n.fsm.Checksum()
	if err != nil {
		return fmt.Errorf("node: recover: %w", err)
	}
	logger.Info("raft configuration recovered", "peers", conf.Servers, "applied_before", before, "applied", idx, "fsm_checksum", sum)
	return nil
}

// releasingFSM releases each snapshot once it is persisted: RecoverCluster never calls
// Release, and a snapshot not released holds a read transaction that makes closing the state
// file wait forever.
type releasingFSM struct{ *fsm.FSM }

func (f releasingFSM) Snapshot() (raft.FSMSnapshot, error) {
	s, err := f.FSM.Snapshot()
	if err != nil {
		return nil, err
	}
	return releasingSnapshot{s}, nil
}

type releasingSnapshot struct{ raft.FSMSnapshot }

func (s releasingSnapshot) Persist(sink raft.SnapshotSink) error {
	defer s.Release()
	return s.FSMSnapshot.Persist(sink)
}
