package node

import (
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestLeaderHTTPAddr: the leader names its own HTTP address; a follower that has not cached
// the leader's yet answers "" at once and learns it in the background, so that it names it
// soon after without any request having waited for it.
func TestLeaderHTTPAddr(t *testing.T) {
	nodes := newCluster(t, 3)
	leader := leaderOf(t, nodes)
	if got := leader.LeaderHTTPAddr(); got != leader.http {
		t.Fatalf("the leader names %q, want its own %q", got, leader.http)
	}
	var follower *testNode
	for _, n := range nodes {
		if n != leader {
			follower = n
			break
		}
	}
	testkit.WaitFor(t, "the follower to know the leader", 10*time.Second, func() bool {
		addr, _ := follower.Node.raft.LeaderWithID()
		return string(addr) == leader.raft
	})
	follower.forgetPeer(leader.raft)
	testkit.WaitFor(t, "the follower to name the leader's HTTP address", 10*time.Second, func() bool {
		return follower.LeaderHTTPAddr() == leader.http
	})
}
