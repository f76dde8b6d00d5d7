package node

import "time"

// Consistency is how fresh the state a read sees must be: [Linearizable], [Stale] or
// [LocalUnchecked]. A nil Consistency is Linearizable.
type Consistency interface{ consistency() }

// Linearizable reads reflect every write acknowledged before the read began: the node confirms
// the leader's commit index with a quorum and waits until its state has applied it.
type Linearizable struct{}

// Stale reads serve the local state and report how old it may be. A node that has not heard
// from the leader for longer than MaxStale (when set) serves the read linearizably instead, as
// does a node still rebuilding a state it could not trust at start (statefile.go): it may
// have served later indexes before it stopped.
type Stale struct{ MaxStale time.Duration }

// LocalUnchecked reads serve the local state as it is, with no check at all. Use it only where
// a stale view is harmless, and say why at the call site.
type LocalUnchecked struct{}

func (Linearizable) consistency()   {}
func (Stale) consistency()          {}
func (LocalUnchecked) consistency() {}

// ReadInfo describes the view a read was served from.
type ReadInfo struct {
	// Served is the consistency the read had: the one asked for, except Linearizable for a
	// Stale read older than its MaxStale or on a node catching up after a rebuild; nil when the read could not be served (no leader).
	Served Consistency
	// LastContact is the time since this node last heard from the leader (0 on the leader),
	// and KnownLeader whether it knows one; both are set for reads asked Stale.
	LastContact time.Duration
	KnownLeader bool
	// Index is the raft index the view reflects.
	Index uint64
}

// servedAs decides how a read asked with c is served, given this node's staleness.
func servedAs(c Consistency, st staleness) Consistency {
	switch c := c.(type) {
	case LocalUnchecked:
		return c
	case Stale:
		if st.CatchingUp {
			break
		}
		if c.MaxStale == 0 || st.LastContact <= c.MaxStale {
			return c
		}
	}
	return Linearizable{}
}
