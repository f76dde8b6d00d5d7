package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/hashicorp/raft"
)

// TestLeadershipTransferIsADefiniteFailure: raft refuses a write while leadership is being
// handed over, before proposing anything; that must not be reported as outcome unknown.
func TestLeadershipTransferIsADefiniteFailure(t *testing.T) {
	err := classifyApplyError(raft.ErrLeadershipTransferInProgress)
	if errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, ErrNoLeader) {
		t.Fatalf("got %v, want a definite ErrNoLeader", err)
	}
}

// TestStaleReadOnCutOffLeaderRespectsMaxStale: a leader reported last contact 0, so max_stale
// was never enforced on a leader cut off from its followers. With both followers stopped and
// a lease long enough that the leader still believes it leads, a stale read bounded to 1 ms
// must not be served from its local state as it is: it is served linearizably (a leadership
// check first, which raft may still pass on answers the followers sent before they stopped)
// or fails.
func TestStaleReadOnCutOffLeaderRespectsMaxStale(t *testing.T) {
	rc := TestRaftConfig()
	rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = 3*time.Second, 3*time.Second, 3*time.Second
	nodes := newClusterWith(t, 3, rc)
	leader := leaderOf(t, nodes)
	if res, err := leader.Apply(ctxT(t), mapping("cut")); err != nil || res.Err != nil {
		t.Fatalf("write: %v %v", err, res)
	}
	for _, n := range nodes {
		if n != leader {
			n.stop()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bound := Stale{MaxStale: time.Millisecond}
	_, info, err := readOne(ctx, leader, bound, "cut")
	if info.Served == bound {
		t.Fatalf("a leader cut off from its followers served a read bounded to 1 ms from its own state: %+v (%v)", info, err)
	}
	if info.LastContact <= 0 {
		t.Fatalf("the cut-off leader reports last contact %v", info.LastContact)
	}
}

// TestWriteWithoutLeaderFailsFast: a node that knows no leader (the only one left of three)
// must answer a write with a definite ErrNoLeader soon, not retry until the caller's deadline.
func TestWriteWithoutLeaderFailsFast(t *testing.T) {
	nodes := newCluster(t, 3)
	leader := leaderOf(t, nodes)
	for _, n := range nodes {
		if n != leader {
			n.stop()
		}
	}
	testkit.WaitFor(t, "the lone node to step down", 30*time.Second, func() bool { return !leader.IsLeader() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := leader.Apply(ctx, mapping("lonely"))
	if !errors.Is(err, ErrNoLeader) || errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("write without a leader: got %v, want a definite ErrNoLeader", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("write without a leader: it waited for the caller's whole deadline (%v)", err)
	}
}

// TestJoinAddressMayBeAURL: --join http://host:port (a URL, as every other tool takes it) was
// turned into http://http//host:port/internal/join and retried forever.
func TestJoinAddressMayBeAURL(t *testing.T) {
	first := startNode(t, "n1", t.TempDir(), freeAddr(t), true)
	testkit.WaitFor(t, "first leader", 10*time.Second, first.IsLeader)
	second := startNode(t, "n2", t.TempDir(), freeAddr(t), false, "http://"+first.http)
	testkit.WaitFor(t, "two voters", 10*time.Second, func() bool {
		return len(servers(t, first)) == 2 && servers(t, first)[second.ID()] == second.raft
	})
}
