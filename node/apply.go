package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/hashicorp/raft"
)

// retryBackoff paces retries of definite failures while leadership moves.
const retryBackoff = 25 * time.Millisecond

// Apply proposes c, stamped with the current time, and returns what the state machine made of
// it. On a follower the entry is forwarded to the leader, which checks it again (rpcApply):
// nothing that fails [fsm.Command.Validate] is ever proposed. Errors: ErrInvalid,
// ErrUnsupportedVersion, ErrNoLeader and ErrBusy are definite failures; ErrOutcomeUnknown
// means the write may or may not have happened.
func (n *Node) Apply(ctx context.Context, c fsm.Command) (*fsm.Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	data, version := fsm.Encode(c, start.UTC()), fsm.Version(c)
	var res *fsm.Result
	err := n.onLeader(ctx, func() (err error) {
		if n.IsLeader() {
			res, err = n.propose(ctx, data, version)
		} else {
			res, err = n.forwardApply(ctx, data)
		}
		return err
	})
	if obs := n.cfg.ApplyObserver; obs != nil {
		obs(time.Since(start), err)
	}
	return res, err
}

// propose proposes a checked entry of the given log version on this node, which must be the
// leader, once every member reads that version.
func (n *Node) propose(ctx context.Context, data []byte, version uint64) (*fsm.Result, error) {
	if err := n.checkLogVersion(ctx, version); err != nil {
		return nil, err
	}
	return n.applyLocal(ctx, data)
}

// onLeader runs fn until it succeeds or fails for another reason than a missing or moved
// leader. Those failures are definite (nothing was done), so repeating fn is safe; it is
// repeated for at most Raft.LeaderWait (an election under way), after which the failure is
// ErrNoLeader: a node that knows no leader answers soon instead of at the caller's deadline.
func (n *Node) onLeader(ctx context.Context, fn func() error) error {
	var waitUntil time.Time
	for {
		err := fn()
		if !errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrNoLeader) {
			return err
		}
		if waitUntil.IsZero() {
			waitUntil = time.Now().Add(n.cfg.Raft.LeaderWait)
		}
		if time.Now().After(waitUntil) {
			return noLeader(err)
		}
		if werr := n.backoff(ctx); werr != nil {
			return noLeader(err)
		}
	}
}

// noLeader reports a missing or moved leader as ErrNoLeader.
func noLeader(err error) error {
	if errors.Is(err, ErrNoLeader) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrNoLeader, err)
}

func (n *Node) backoff(ctx context.Context) error {
	t := time.NewTimer(retryBackoff)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-n.done:
		return ErrShutdown
	case <-ctx.Done():
		return ctx.Err()
	}
}

// applyLocal proposes on this node, which must be the leader. data must have been checked
// (propose); only the leader's own no-op comes here directly.
func (n *Node) applyLocal(ctx context.Context, data []byte) (*fsm.Result, error) {
	proposed := time.Now()
	f := n.raft.Apply(data, n.cfg.Raft.ApplyTimeout)
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		if err != nil {
			return nil, classifyApplyError(err)
		}
		n.contact.note(proposed) // committed: a quorum stored it after it was proposed
		res, ok := f.Response().(*fsm.Result)
		if !ok {
			return nil, fmt.Errorf("node: apply returned %T", f.Response())
		}
		return res, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", ErrOutcomeUnknown, ctx.Err())
	}
}

func classifyApplyError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return ErrNotLeader
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return fmt.Errorf("%w: %v", ErrBusy, err)
	case errors.Is(err, raft.ErrLeadershipTransferInProgress):
		// Refused before it was proposed: leadership is moving, retried like a missing leader.
		return fmt.Errorf("%w: %v", ErrNoLeader, err)
	default:
		// ErrLeadershipLost, ErrRaftShutdown, ErrAbortedByRestore: the entry may still commit.
		return fmt.Errorf("%w: %v", ErrOutcomeUnknown, err)
	}
}
