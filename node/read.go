package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// LinearizableBarrier returns once the local state reflects every write acknowledged before it
// was called, so a read that follows is linearizable. It notes the leader's commit index,
// confirms leadership with a quorum round shared by concurrent callers, and waits for the
// local state to apply that index.
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
	if err := n.raft.VerifyLeader().Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return 0, ErrNotLeader
		}
		return 0, err
	}
	return 0, nil
}

// StaleInfo describes how old a local (stale) read may be.
type StaleInfo struct {
	// LastContact is the time since the last contact with a leader (0 on the leader).
	LastContact time.Duration
	// KnownLeader is whether this node knows a leader.
	KnownLeader bool
}

// Staleness reports how old this node's state may be.
func (n *Node) Staleness() StaleInfo {
	addr, _ := n.raft.LeaderWithID()
	if n.IsLeader() {
		return StaleInfo{KnownLeader: true}
	}
	lc := n.raft.LastContact()
	info := StaleInfo{KnownLeader: addr != ""}
	if lc.IsZero() {
		info.LastContact = time.Duration(1<<63 - 1)
	} else {
		info.LastContact = time.Since(lc)
	}
	return info
}

// AppliedIndex is the raft index the local state reflects.
func (n *Node) AppliedIndex() uint64 { return n.fsm.AppliedIndex() }
