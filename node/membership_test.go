package node

import (
	"context"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// servers returns the raft configuration as id → address, as the leader sees it.
func servers(t *testing.T, n *testNode) map[string]string {
	t.Helper()
	st, err := n.Status(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range st.Servers {
		out[s.ID] = s.RaftAddr
	}
	return out
}

// writable checks that the cluster still commits writes, through n.
func writable(t *testing.T, n *testNode, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if res, err := n.Apply(ctx, mapping(key)); err != nil || res.Err != nil {
		t.Fatalf("the cluster no longer commits writes: %v %v", err, res)
	}
}

// TestJoinRefusesUnreachableRaftAddr is issue 9's repro: a join naming an address where no
// node listens turned a healthy one-node cluster into a candidate for good. The leader must
// dial the joiner first and refuse the join; the cluster keeps its one voter and its writes.
func TestJoinRefusesUnreachableRaftAddr(t *testing.T) {
	nodes := newCluster(t, 1)
	leader := leaderOf(t, nodes)
	err := leader.Join(ctxT(t), "evil", testkit.FreeAddr(t))
	if err == nil {
		t.Errorf("join of an unreachable raft address: got nil error")
	}
	if got := servers(t, leader); len(got) != 1 {
		t.Fatalf("configuration after the refused join: %v, want n1 alone", got)
	}
	writable(t, leader, "after-evil-join")
}

// TestJoinRefusesToReplaceLiveVoter: a join that shares the id or the address of a live voter
// used to remove that voter silently. It must be refused with member_exists (the id taken by a
// live voter) or as not the node at that address, and leave the configuration as it was.
func TestJoinRefusesToReplaceLiveVoter(t *testing.T) {
	nodes := newCluster(t, 3)
	leader := leaderOf(t, nodes)
	victim := nodes[1]
	if victim == leader {
		victim = nodes[2]
	}
	before := servers(t, leader)
	// A second node calling itself like the victim, at a new address.
	impostor := startNode(t, victim.ID(), t.TempDir(), freeAddr(t), false)
	err := leader.Join(ctxT(t), victim.ID(), impostor.raft)
	if Code(err) != "member_exists" {
		t.Errorf("join of a live voter's id at another address: got %v (code %q), want member_exists", err, Code(err))
	}
	// Another id at the victim's address: the node there is not that node.
	if err := leader.Join(ctxT(t), "n9", victim.raft); err == nil {
		t.Errorf("join of another id at a live voter's address: got nil error")
	}
	if got := servers(t, leader); len(got) != len(before) || got[victim.ID()] != before[victim.ID()] {
		t.Fatalf("configuration changed from %v to %v", before, got)
	}
	writable(t, leader, "after-impostor")
}

// TestMembershipChangeRefusesQuorumLoss: with one follower of three down, removing the other
// live follower would leave two voters of which one answers, so no quorum. The leader must
// refuse the removal and keep committing writes.
func TestMembershipChangeRefusesQuorumLoss(t *testing.T) {
	nodes := newCluster(t, 3)
	leader := leaderOf(t, nodes)
	var followers []*testNode
	for _, n := range nodes {
		if n != leader {
			followers = append(followers, n)
		}
	}
	followers[1].stop()
	if err := leader.Remove(ctxT(t), followers[0].ID()); err == nil {
		t.Errorf("removing a live voter while another is down: got nil error")
	}
	if got := servers(t, leader); len(got) != 3 {
		t.Fatalf("configuration after the refused removal: %v, want all three", got)
	}
	writable(t, leader, "after-refused-remove")
}
