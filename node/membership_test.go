package node

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/hashicorp/raft"
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
	err := leader.Join(ctxT(t), api.JoinRequest{NodeID: "evil", RaftAddr: testkit.FreeAddr(t)})
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
	err := leader.Join(ctxT(t), api.JoinRequest{NodeID: victim.ID(), RaftAddr: impostor.raft})
	if Code(err) != "member_exists" {
		t.Errorf("join of a live voter's id at another address: got %v (code %q), want member_exists", err, Code(err))
	}
	// Another id at the victim's address: the node there is not that node.
	if err := leader.Join(ctxT(t), api.JoinRequest{NodeID: "n9", RaftAddr: victim.raft}); err == nil {
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

// TestJoinReplaceTakesAMembersPlace: a node rebuilt at a new address under a dead member's id
// is refused without replace, and takes the member's place with it.
func TestJoinReplaceTakesAMembersPlace(t *testing.T) {
	nodes := newCluster(t, 3)
	leader := leaderOf(t, nodes)
	dead := nodes[2]
	if dead == leader {
		dead = nodes[1]
	}
	dead.stop()
	rebuilt := startNode(t, dead.ID(), t.TempDir(), freeAddr(t), false)
	req := api.JoinRequest{NodeID: dead.ID(), RaftAddr: rebuilt.raft}
	if err := leader.Join(ctxT(t), req); !errors.Is(err, ErrMemberExists) {
		t.Fatalf("join without replace: got %v, want ErrMemberExists", err)
	}
	req.Replace = true
	if err := leader.Join(ctxT(t), req); err != nil {
		t.Fatalf("join with replace: %v", err)
	}
	if got := servers(t, leader); len(got) != 3 || got[dead.ID()] != rebuilt.raft {
		t.Fatalf("configuration %v, want %s at %s", got, dead.ID(), rebuilt.raft)
	}
	writable(t, leader, "after-replace")
	testkit.WaitFor(t, "the rebuilt node to catch up", 30*time.Second, func() bool {
		a, _ := leader.Status(context.Background())
		b, _ := rebuilt.Status(context.Background())
		return a != nil && b != nil && a.FSMChecksumIdx == b.FSMChecksumIdx && a.FSMChecksum == b.FSMChecksum
	})
}

func TestKeepsQuorum(t *testing.T) {
	voter := func(id string) raft.Server { return raft.Server{ID: raft.ServerID(id), Suffrage: raft.Voter} }
	three := []raft.Server{voter("a"), voter("b"), voter("c")}
	tests := []struct {
		name string
		plan [][]raft.Server
		live []string
		ok   bool
	}{
		{"add a live joiner to a healthy three", [][]raft.Server{append(three, voter("d"))}, []string{"a", "b", "c", "d"}, true},
		{"add to three with one down", [][]raft.Server{append(three, voter("d"))}, []string{"a", "b", "d"}, true},
		{"add to two with one down", [][]raft.Server{{voter("a"), voter("b"), voter("d")}}, []string{"a", "d"}, true},
		{"add an unreachable joiner to one", [][]raft.Server{{voter("a"), voter("d")}}, []string{"a"}, false},
		{"remove the dead one of three", [][]raft.Server{{voter("a"), voter("b")}}, []string{"a", "b"}, true},
		{"remove a live one while another is down", [][]raft.Server{{voter("a"), voter("c")}}, []string{"a", "b"}, false},
		{"remove the last voter", [][]raft.Server{{}}, []string{"a"}, false},
		{"non-voters do not count", [][]raft.Server{{voter("a"), voter("b"), {ID: "n", Suffrage: raft.Nonvoter}}}, []string{"a", "n"}, false},
		{"replace: a step of the plan loses quorum", [][]raft.Server{{voter("a"), voter("c")}, {voter("a"), voter("c"), voter("b2")}}, []string{"a", "b2"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			live := map[raft.ServerID]bool{}
			for _, id := range tc.live {
				live[raft.ServerID(id)] = true
			}
			err := keepsQuorum(tc.plan, live)
			if tc.ok && err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if !tc.ok && !errors.Is(err, ErrQuorumAtRisk) {
				t.Fatalf("got %v, want ErrQuorumAtRisk", err)
			}
		})
	}
}

func TestJoinPlan(t *testing.T) {
	a, b, c := raft.Server{ID: "a", Address: "1"}, raft.Server{ID: "b", Address: "2"}, raft.Server{ID: "c", Address: "3"}
	b2 := raft.Server{ID: "b", Address: "9", Suffrage: raft.Voter}
	plan := joinPlan([]raft.Server{a, b, c}, []raft.Server{b}, b2)
	want := [][]raft.Server{{a, c}, {a, c, b2}}
	if !reflect.DeepEqual(plan, want) {
		t.Fatalf("got %v, want %v", plan, want)
	}
}
