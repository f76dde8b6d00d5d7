package node

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/transport"
	"github.com/hashicorp/go-hclog"
)

// RaftConfig holds the raft timing and log settings.
type RaftConfig struct {
	// HeartbeatTimeout: a follower without leader contact for this long (randomised up to 2×)
	// starts an election.
	HeartbeatTimeout time.Duration
	// ElectionTimeout: how long a candidate waits for votes (randomised up to 2×).
	ElectionTimeout time.Duration
	// LeaderLeaseTimeout: a leader without quorum contact for this long steps down. Must not
	// exceed HeartbeatTimeout.
	LeaderLeaseTimeout time.Duration
	// CommitTimeout: the idle AppendEntries cadence.
	CommitTimeout time.Duration
	// MaxAppendEntries: the most entries per AppendEntries and per group commit (≤ 1024).
	MaxAppendEntries int
	// SnapshotInterval and SnapshotThreshold: how often raft checks, and how many new entries
	// make it take a snapshot.
	SnapshotInterval  time.Duration
	SnapshotThreshold uint64
	// TrailingLogs: entries kept after a snapshot so a lagging follower can catch up from the log.
	TrailingLogs uint64
	// ApplyTimeout bounds enqueueing a write on the leader.
	ApplyTimeout time.Duration
	// LeaderWait is how long a write, a linearizable read or a membership change waits for a
	// leader (an election under way, leadership moving) before it fails with ErrNoLeader.
	LeaderWait time.Duration
}

// LANRaftConfig returns production settings for a LAN (hashicorp/raft's defaults, larger batches).
func LANRaftConfig() RaftConfig {
	return RaftConfig{
		HeartbeatTimeout: time.Second, ElectionTimeout: time.Second, LeaderLeaseTimeout: 500 * time.Millisecond,
		CommitTimeout: 50 * time.Millisecond, MaxAppendEntries: 512,
		SnapshotInterval: 30 * time.Second, SnapshotThreshold: 16384, TrailingLogs: 20480,
		ApplyTimeout: 10 * time.Second, LeaderWait: 2 * time.Second,
	}
}

// TestRaftConfig returns short timeouts for tests on loopback; still loose enough for a busy
// two-core machine running the race detector.
func TestRaftConfig() RaftConfig {
	c := LANRaftConfig()
	c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = 500*time.Millisecond, 500*time.Millisecond, 250*time.Millisecond
	c.CommitTimeout = 20 * time.Millisecond
	c.SnapshotInterval, c.SnapshotThreshold, c.TrailingLogs = 2*time.Second, 1024, 512
	c.ApplyTimeout, c.LeaderWait = 5*time.Second, time.Second
	return c
}

// RaftProfile returns the raft settings called name: "lan" or "test".
func RaftProfile(name string) (RaftConfig, error) {
	switch name {
	case "lan", "":
		return LANRaftConfig(), nil
	case "test":
		return TestRaftConfig(), nil
	}
	return RaftConfig{}, fmt.Errorf("unknown raft profile %q (want lan or test)", name)
}

// Config configures a [Node].
type Config struct {
	// NodeID is the node's stable raft server id.
	NodeID string
	// ApplyObserver, when set, hears the duration and error of every Apply (metrics).
	ApplyObserver func(d time.Duration, err error)
	// DataDir holds raft.db (log and votes), fsm.db (state) and snapshots/.
	DataDir string
	// RaftAddr is the TCP address raft listens on; RaftAdvertise (default RaftAddr) is how
	// peers reach it.
	RaftAddr      string
	RaftAdvertise string
	// HTTPAddr is the address peers forward requests to (this node's HTTP API).
	HTTPAddr string
	// Bootstrap forms a one-node cluster on first start. Ignored when state exists.
	Bootstrap bool
	// RestoreFrom, with Bootstrap, starts the new cluster from the backup file at this path
	// (seed.go). Ignored when state exists.
	RestoreFrom string
	// Join lists HTTP addresses of members to ask for admission on first start, each
	// host:port or http(s)://host:port (see JoinURL). Ignored when state exists.
	Join []string
	// Token, when set, is an admin token sent with this node's own node-to-node HTTP requests
	// (joins, and membership changes forwarded to the leader); with TLS the node certificate
	// suffices.
	Token string
	// Raft holds timings and log settings.
	Raft RaftConfig
	// InitialMmapSize pre-sizes the state file's memory map (see fsm.Config).
	InitialMmapSize int
	// EventRetention bounds the event history of the change stream (fsm.Retention); the zero
	// value means fsm.DefaultRetention. Give every node the same values.
	EventRetention fsm.Retention
	// Faults, when set, injects user-space network faults into raft traffic (chaos tests).
	Faults *transport.Faults
	// TLS, when set, secures the raft port with mutual TLS (peers must present a node
	// certificate of the cluster CA, in both directions) and makes node-to-node HTTP (joins,
	// forwarded membership changes) HTTPS to node certificates. The HTTP API's own listener is
	// the caller's.
	TLS PeerTLS
	// Autopilot, when set, makes joins add non-voters and is the configuration of the
	// autopilot RunAutopilot runs on the leader (it must then be run: non-voters are promoted
	// by it alone). nil: joins add voters, nothing is promoted or removed automatically.
	Autopilot *AutopilotConfig
	// Logger is the root logger; the node names sub-loggers from it. nil discards.
	Logger hclog.Logger
}

// PeerTLS hands out TLS configurations that follow certificate reloads (a
// *transport.TLSReloader).
type PeerTLS interface {
	ServerConfig(auth tls.ClientAuthType, check transport.PeerCheck) *tls.Config
	ClientConfig(serverName string, check transport.PeerCheck) *tls.Config
}

// DefaultConfig returns a LAN configuration; the caller sets ids, addresses and DataDir.
func DefaultConfig() *Config {
	return &Config{Raft: LANRaftConfig(), InitialMmapSize: 1 << 30}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.NodeID == "":
		return errors.New("node: NodeID is required")
	case c.DataDir == "":
		return errors.New("node: DataDir is required")
	case c.EventRetention != (fsm.Retention{}) && c.EventRetention.Validate() != nil:
		return fmt.Errorf("node: EventRetention: %w", c.EventRetention.Validate())
	case c.HTTPAddr == "":
		return errors.New("node: HTTPAddr is required")
	case c.Bootstrap && len(c.Join) > 0:
		return errors.New("node: Bootstrap and Join are mutually exclusive")
	case c.RestoreFrom != "" && !c.Bootstrap:
		return errors.New("node: RestoreFrom starts a new cluster: it needs Bootstrap")
	}
	if err := CheckHostPort(c.RaftAddr, false); err != nil {
		return fmt.Errorf("node: RaftAddr: %w", err)
	}
	if c.RaftAdvertise != "" {
		if err := CheckHostPort(c.RaftAdvertise, true); err != nil {
			return fmt.Errorf("node: RaftAdvertise: %w", err)
		}
	}
	for _, j := range c.Join {
		if _, err := JoinURL(j); err != nil {
			return fmt.Errorf("node: Join: %w", err)
		}
		if err := c.checkScheme(j); err != nil {
			return fmt.Errorf("node: Join: %w", err)
		}
	}
	r := c.Raft
	if r.HeartbeatTimeout <= 0 || r.ElectionTimeout < r.HeartbeatTimeout || r.LeaderLeaseTimeout <= 0 || r.LeaderLeaseTimeout > r.HeartbeatTimeout {
		return errors.New("node: want 0 < LeaderLeaseTimeout <= HeartbeatTimeout <= ElectionTimeout")
	}
	if r.MaxAppendEntries <= 0 || r.MaxAppendEntries > 1024 {
		return errors.New("node: MaxAppendEntries must be in 1..1024")
	}
	if r.ApplyTimeout <= 0 || r.LeaderWait <= 0 {
		return errors.New("node: ApplyTimeout and LeaderWait must be positive")
	}
	if c.Autopilot != nil {
		return c.Autopilot.Validate()
	}
	return nil
}

func (c *Config) advertise() string {
	if c.RaftAdvertise != "" {
		return c.RaftAdvertise
	}
	return c.RaftAddr
}

// checkScheme accepts a member's HTTP address as host:port or as a URL whose scheme matches the
// TLS setting: no plaintext to a member when TLS is on, and https needs TLS.
func (c *Config) checkScheme(addr string) error {
	scheme, _, ok := strings.Cut(addr, "://")
	switch {
	case !ok:
		return nil
	case scheme == "https" && c.TLS == nil:
		return fmt.Errorf("%s is https but TLS is not configured", addr)
	case scheme == "http" && c.TLS != nil:
		return fmt.Errorf("%s is plain http but TLS is configured", addr)
	case scheme != "http" && scheme != "https":
		return fmt.Errorf("%s: want host:port, http:// or https://", addr)
	}
	return nil
}

// peerURL is the base URL of a member's HTTP address (host:port or a URL).
func (c *Config) peerURL(addr string) string {
	if strings.Contains(addr, "://") {
		return strings.TrimRight(addr, "/")
	}
	if c.TLS != nil {
		return "https://" + addr
	}
	return "http://" + addr
}

// peerTLS returns the server and client configurations of node-to-node traffic (nil without
// TLS): node certificates of the cluster CA only.
func (c *Config) peerTLS() (server, client *tls.Config) {
	if c.TLS == nil {
		return nil, nil
	}
	nodes := transport.RequireKind(transport.KindNode)
	return c.TLS.ServerConfig(tls.RequireAndVerifyClientCert, nodes), c.TLS.ClientConfig("", nodes)
}
