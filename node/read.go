package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/hashicorp/raft"
)

// Read is the one way to read the state: it makes the local state as fresh as c asks, then
// runs fn on one read transaction of it. fn must not keep r past its return. The info says
// what the read was served from, also when fn fails.
func (n *Node) Read(ctx context.Context, c Consistency, fn func(r *fsm.Reader) error) (ReadInfo, error) {
	var st staleness
	if _, ok := c.(Stale); ok {
		st = n.staleness()
	}
	info := ReadInfo{LastContact: st.LastContact, KnownLeader: st.KnownLeader}
	served := servedAs(c, st)
	if _, ok := served.(Linearizable); ok {
		if err := n.LinearizableBarrier(ctx); err != nil {
			return info, err
		}
	}
	info.Served = served
	err := n.fsm.View(func(r *fsm.Reader) error {
		info.Index = r.AppliedIndex()
		return fn(r)
	})
	return info, err
}

// LinearizableBarrier returns once the local state reflects every write acknowledged before it
// was called: what [Read] does before a [Linearizable] read, for callers that only wait. It
// notes the leader's commit index, confirms leadership with a quorum round shared by
// concurrent callers, and waits for the local state to apply that index.
func (n *Node) LinearizableBarrier(ctx context.Context) error {
	if unsafeLocalReads {
		return nil
	}
	var idx uint64
	err := n.onLeader(ctx, func() (err error) {
		if n.IsLeader() {
			idx, err = n.leaderReadIndex(ctx)
		} else {
			idx, err = n.remoteIdx.Do(ctx)
		}
		return err
	})
	if err != nil {
		return err
	}
	return n.fsm.WaitApplied(ctx, idx)
}

// leaderReadIndex returns an index that covers every write acknowledged before the call, after
// confirming this node still leads. It waits until the leader has committed an entry of its
// own term: until then its commit index may lag behind writes of the previous leader.
func (n *Node) leaderReadIndex(ctx context.Context) (uint64, error) {
	term, err := n.waitReady(ctx)
	if err != nil {
		return 0, err
	}
	idx := n.raft.CommitIndex()
	if _, err := n.verify.Do(ctx); err != nil {
		return 0, err
	}
	if n.raft.CurrentTerm() != term {
		return 0, ErrNotLeader
	}
	return idx, nil
}

// waitReady waits until this leader committed its term's no-op; it returns the term.
func (n *Node) waitReady(ctx context.Context) (uint64, error) {
	for {
		wake := n.ready.C()
		if n.raft.State() != raft.Leader {
			return 0, ErrNotLeader
		}
		term := n.raft.CurrentTerm()
		if n.readyTerm.Load() == term {
			return term, nil
		}
		t := time.NewTimer(n.cfg.Raft.HeartbeatTimeout)
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return 0, fmt.Errorf("%w: leader has not committed in its term yet: %v", ErrNoLeader, ctx.Err())
		}
		t.Stop()
	}
}

// verifyLeader is the shared quorum round behind linearizable reads.
func (n *Node) verifyLeader() (uint64, error) {
	start := time.Now()
	if err := n.raft.VerifyLeader().Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return 0, ErrNotLeader
		}
		return 0, err
	}
	n.contact.note(start)
	return 0, nil
}

// staleness is how old this node's state may be.
type staleness struct {
	// LastContact is the time since the last contact with a leader; on the leader, the time
	// since a quorum last confirmed it (0 when it is the only voter).
	LastContact time.Duration
	// KnownLeader is whether this node knows a leader.
	KnownLeader bool
	// CatchingUp: the state was rebuilt at start (not closed cleanly, damaged, lost) and has
	// not yet applied every entry this node's log and snapshots held then. Before the stop the
	// node may have served any of those indexes, so its local state is behind what it served.
	CatchingUp bool
}

func (n *Node) staleness() staleness {
	addr, _ := n.raft.LeaderWithID()
	catchingUp := n.fsm.AppliedIndex() < n.catchUpTo
	if n.IsLeader() {
		st := staleness{KnownLeader: true, CatchingUp: catchingUp}
		if !n.soleVoter() {
			st.LastContact = n.contact.since()
		}
		return st
	}
	lc := n.raft.LastContact()
	st := staleness{KnownLeader: addr != "", CatchingUp: catchingUp}
	if lc.IsZero() {
		st.LastContact = time.Duration(1<<63 - 1)
	} else {
		st.LastContact = time.Since(lc)
	}
	return st
}

// AppliedIndex is the raft index the local state reflects.
func (n *Node) AppliedIndex() uint64 { return n.fsm.AppliedIndex() }

// AuthFresh returns nil once this node may judge tokens from its own state: it is in contact
// with the cluster (a leader confirmed by a quorum, or a follower that heard from its leader,
// within lease; otherwise a linearizable barrier proves contact now) and it has applied every
// entry it knows to be committed. A revoked token is then refused by every node that answers
// (see the README's Security section).
func (n *Node) AuthFresh(ctx context.Context, lease time.Duration) error {
	st := n.staleness()
	if !st.KnownLeader || st.LastContact > lease {
		return n.LinearizableBarrier(ctx)
	}
	return n.fsm.WaitApplied(ctx, n.raft.CommitIndex())
}

// Changed returns a channel closed at the next change of the local applied index.
func (n *Node) Changed() <-chan struct{} { return n.fsm.Changed() }

// SetEventSink attaches s to the apply path: it receives every committed batch's events
// (fsm.EventSink; the change stream's fan-out hub).
func (n *Node) SetEventSink(s fsm.EventSink) { n.fsm.SetEventSink(s) }

// Modified is the raft index of the last locally applied entry that changed a record of kind.
func (n *Node) Modified(kind string) uint64 { return n.fsm.Modified(kind) }
