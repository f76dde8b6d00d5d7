package node

import (
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// contactClock is, on the leader, the time a quorum last confirmed it: the start of the last
// leadership check (VerifyLeader) that succeeded, or the proposal time of the last entry that
// committed. A leader cut off from its followers keeps serving its own state until its lease
// runs out; this clock is what bounds how stale that state may be (max_stale).
type contactClock struct{ unixNano atomic.Int64 }

// note records a quorum contact at t, unless a later one is recorded already.
func (c *contactClock) note(t time.Time) {
	ns := t.UnixNano()
	for {
		old := c.unixNano.Load()
		if old >= ns || c.unixNano.CompareAndSwap(old, ns) {
			return
		}
	}
}

// reset forgets every contact (leadership changed).
func (c *contactClock) reset() { c.unixNano.Store(0) }

// since is the time since the last contact, or the longest duration when there was none.
func (c *contactClock) since() time.Duration {
	ns := c.unixNano.Load()
	if ns == 0 {
		return time.Duration(1<<63 - 1)
	}
	return max(time.Since(time.Unix(0, ns)), 0)
}

// soleVoter reports whether this node is the only voter: it is a quorum by itself.
func (n *Node) soleVoter() bool {
	cf := n.raft.GetConfiguration()
	if cf.Error() != nil {
		return false
	}
	voters, self := 0, false
	for _, s := range cf.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			voters++
			self = self || string(s.ID) == n.cfg.NodeID
		}
	}
	return voters == 1 && self
}
