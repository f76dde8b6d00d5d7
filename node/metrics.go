package node

import (
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/cellmap/cellmap/fsm"
)

// Metrics is a snapshot of the node's raft state for monitoring (package metrics reads it at
// scrape time).
type Metrics struct {
	State                                 string
	Term, CommitIndex, AppliedIndex, Last uint64
	// LastContact is how long ago a leader (or, on the leader, a quorum) was last heard from.
	LastContact time.Duration
	// LeaderChanges counts the leader changes this node observed since it started.
	LeaderChanges uint64
	// Voters is the number of voters in the configuration.
	Voters int
}

// leaderWatch counts leader changes with a raft observer.
type leaderWatch struct {
	changes  atomic.Uint64
	observer *raft.Observer
}

// watchLeaders registers the observer and counts until the node shuts down.
func (n *Node) watchLeaders() {
	ch := make(chan raft.Observation, 16)
	n.leaders.observer = raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	n.raft.RegisterObserver(n.leaders.observer)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer n.raft.DeregisterObserver(n.leaders.observer)
		for {
			select {
			case <-n.done:
				return
			case <-ch:
				n.leaders.changes.Add(1)
			}
		}
	}()
}

// Metrics returns the node's raft state now.
func (n *Node) Metrics() Metrics {
	m := Metrics{State: n.raft.State().String(), Term: n.raft.CurrentTerm(), CommitIndex: n.raft.CommitIndex(),
		AppliedIndex: n.fsm.AppliedIndex(), Last: n.raft.LastIndex(), LastContact: n.staleness().LastContact,
		LeaderChanges: n.leaders.changes.Load()}
	if cf := n.raft.GetConfiguration(); cf.Error() == nil {
		for _, s := range cf.Configuration().Servers {
			if s.Suffrage == raft.Voter {
				m.Voters++
			}
		}
	}
	return m
}

// Stats reads the size of the state (metrics).
func (n *Node) Stats() (fsm.Stats, error) { return n.fsm.Stats() }
