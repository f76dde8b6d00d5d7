// Package nemesis injects the faults of a chaos run: network partitions of several shapes,
// packet loss, latency, process pauses and crashes, raft membership changes and gossip-only
// cuts. A [Plan] made from a seed fixes which faults happen, in which order, for how long and
// with which random choices; a [Driver] executes it against an [Env] and records every fault
// as a start/stop pair in the history.
package nemesis

import (
	"context"
	"errors"
	"math/rand/v2"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/jepsen/netns"
)

// Sentinel errors.
var (
	// ErrUnknown: no nemesis has that name.
	ErrUnknown = errors.New("nemesis: unknown nemesis")
	// ErrNotApplicable: the nemesis needs more nodes than the run has.
	ErrNotApplicable = errors.New("nemesis: not applicable to this cluster size")
	// ErrSkipped: the fault could not start in the cluster's current state (no leader, too
	// few voters); nothing was changed.
	ErrSkipped = errors.New("nemesis: skipped")
)

// Env is the cluster as the nemeses see it. Node ids are "n1".."nN".
type Env interface {
	// Nodes returns every node id.
	Nodes() []string
	// IP returns a node's address.
	IP(id string) string
	// RaftAddr returns a node's raft address.
	RaftAddr(id string) string
	// GossipPort is the gossip port (the same on every node).
	GossipPort() int
	// Leader returns the node that leads in the highest term.
	Leader(ctx context.Context) (string, error)
	// Status asks one node for its status.
	Status(ctx context.Context, id string) (*api.ClusterStatus, error)
	// Client is a client of one node's API.
	Client(id string) *client.Client
	// SetRules replaces one node's packet filter.
	SetRules(ctx context.Context, id string, r netns.Rules) error
	// CutConns aborts id's TCP connections to peers (on ports, when given).
	CutConns(ctx context.Context, id string, peers []string, ports []int) error
	// Kill, Start, Pause and Resume act on a node's server process.
	Kill(id string) error
	Start(id string) error
	Pause(id string) error
	Resume(id string) error
	// SetDelay delays node id's raft traffic by ms (0: off), with netem where the kernel has
	// it, else through the server's fault-injection endpoint.
	SetDelay(ctx context.Context, id string, ms int) error
	// ReadLog returns a node's log from offset from and the offset after it.
	ReadLog(id string, from int64) ([]byte, int64, error)
}

// Fault is an injected fault.
type Fault struct {
	// Targets are the nodes it acts on; Detail says what was done.
	Targets []string
	Detail  string
	// Hold, when set, replaces the plan's fixed hold: it returns when the fault reached its
	// goal or ctx ended, with a note for the history.
	Hold func(ctx context.Context) string
	// During, when set (and Hold is not), runs at the start of the fixed hold, which lasts as
	// planned or until During returns, whichever is later (During gets at most GoalHoldMax):
	// deliberate operations inside the fault's window (e.g. a read through an isolated
	// leader). It returns a note for the history.
	During func(ctx context.Context) string
	// Stop undoes the fault and says how that went.
	Stop func(ctx context.Context) (string, error)
}

// Nemesis is one kind of fault.
type Nemesis interface {
	// Name is the nemesis's name on the command line and in histories.
	Name() string
	// Start injects the fault, making its random choices with rng. On error the returned
	// Fault, when not nil, undoes what was done.
	Start(ctx context.Context, env Env, rng *rand.Rand) (*Fault, error)
}
