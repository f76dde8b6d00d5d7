package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/hashicorp/go-hclog"
)

// testNode is a node with its HTTP listener (internal protocol only).
type testNode struct {
	*Node
	srv  *http.Server
	dir  string
	http string
	raft string
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func testLogger(t testing.TB, name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.Warn, Output: testWriter{t}})
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// startNode starts a node; dir and raftAddr are reused on restart.
func startNode(t testing.TB, id, dir, raftAddr string, bootstrap bool, join ...string) *testNode {
	t.Helper()
	return startNodeWith(t, TestRaftConfig(), id, dir, raftAddr, bootstrap, join...)
}

// startNodeWith is startNode with raft settings of the test's own.
func startNodeWith(t testing.TB, rc RaftConfig, id, dir, raftAddr string, bootstrap bool, join ...string) *testNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.NodeID, cfg.DataDir, cfg.RaftAddr, cfg.HTTPAddr = id, dir, raftAddr, ln.Addr().String()
	cfg.Bootstrap, cfg.Join, cfg.Raft = bootstrap, join, rc
	cfg.InitialMmapSize = 1 << 20
	cfg.Logger = testLogger(t, id)
	n, err := New(cfg)
	if err != nil {
		ln.Close()
		t.Fatalf("start %s: %v", id, err)
	}
	tn := &testNode{Node: n, dir: dir, http: cfg.HTTPAddr, raft: raftAddr}
	tn.srv = &http.Server{Handler: n.InternalHandler()}
	go tn.srv.Serve(ln)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		t.Fatalf("join %s: %v", id, err)
	}
	t.Cleanup(func() { tn.stop() })
	return tn
}

func (tn *testNode) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tn.srv.Close()
	tn.Shutdown(ctx)
}

// newCluster starts size nodes: n1 bootstraps, the others join it.
func newCluster(t *testing.T, size int) []*testNode {
	t.Helper()
	return newClusterWith(t, size, TestRaftConfig())
}

// newClusterWith is newCluster with raft settings of the test's own.
func newClusterWith(t *testing.T, size int, rc RaftConfig) []*testNode {
	t.Helper()
	nodes := []*testNode{startNodeWith(t, rc, "n1", t.TempDir(), freeAddr(t), true)}
	testkit.WaitFor(t, "first leader", 10*time.Second+2*rc.ElectionTimeout, nodes[0].IsLeader)
	for i := 2; i <= size; i++ {
		nodes = append(nodes, startNodeWith(t, rc, fmt.Sprintf("n%d", i), t.TempDir(), freeAddr(t), false, nodes[0].http))
	}
	testkit.WaitFor(t, "all members", 10*time.Second, func() bool {
		st, err := nodes[0].Status(context.Background())
		return err == nil && len(st.Servers) == size
	})
	return nodes
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func leaderOf(t testing.TB, nodes []*testNode) *testNode {
	t.Helper()
	var leader *testNode
	testkit.WaitFor(t, "a leader", 15*time.Second, func() bool {
		for _, n := range nodes {
			if n != nil && n.IsLeader() {
				leader = n
				return true
			}
		}
		return false
	})
	return leader
}

// uuidOf is the instance uuid a test names by key.
func uuidOf(key string) string {
	h := fmt.Sprintf("%x", sha256.Sum256([]byte(key)))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// mapping is a transaction that puts the instance mapping of key (see uuidOf).
func mapping(key string) *fsm.Txn {
	return &fsm.Txn{Ops: []fsm.Op{{Kind: fsm.OpPut, Table: fsm.TableInstanceMappings,
		Record: &fsm.InstanceMapping{InstanceUUID: uuidOf(key), ProjectID: "p"}}}}
}

// applyRetrying applies an idempotent command, retrying while leadership moves (a two-node
// majority on a busy machine may lose its leader for a moment).
func applyRetrying(t testing.TB, n *testNode, c fsm.Command) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := n.Apply(ctxT(t), c)
		if err == nil {
			return
		}
		if time.Now().After(deadline) || !(errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, ErrNoLeader)) {
			t.Fatalf("write: %v", err)
		}
	}
}

func readMapping(n *testNode, key string) (*fsm.InstanceMapping, error) {
	var m *fsm.InstanceMapping
	_, err := n.Read(context.Background(), LocalUnchecked{}, func(r *fsm.Reader) error {
		var err error
		m, err = r.InstanceMapping(uuidOf(key))
		return err
	})
	return m, err
}

func TestFollowerWriteForwardedAndLinearizableReadElsewhere(t *testing.T) {
	nodes := newCluster(t, 3)
	leader := leaderOf(t, nodes)
	var followers []*testNode
	for _, n := range nodes {
		if n != leader {
			followers = append(followers, n)
		}
	}
	res, err := followers[0].Apply(ctxT(t), mapping("i-1"))
	if err != nil || res.Err != nil {
		t.Fatalf("write on follower: %v %v", err, res)
	}
	// A linearizable read on the other follower sees it without any waiting by the test.
	if err := followers[1].LinearizableBarrier(ctxT(t)); err != nil {
		t.Fatalf("barrier: %v", err)
	}
	m, err := readMapping(followers[1], "i-1")
	if err != nil || m.Revision != res.Index {
		t.Fatalf("read on other follower: got %+v (%v), want revision %d", m, err, res.Index)
	}
	// Domain errors travel through forwarding intact.
	res, err = followers[0].Apply(ctxT(t), &fsm.DeleteFlavor{ID: "nope"})
	if err != nil || !errors.Is(res.Err, fsm.ErrNotFound) {
		t.Fatalf("forwarded domain error: got %v / %v, want not found", err, res)
	}
}

func TestLeaderFailoverKeepsAcknowledgedWrites(t *testing.T) {
	nodes := newCluster(t, 3)
	leader := leaderOf(t, nodes)
	var acked []string
	for i := 0; i < 20; i++ {
		id := fmt.Sprintf("i-%d", i)
		applyRetrying(t, nodes[i%3], mapping(id))
		acked = append(acked, id)
	}
	leader.stop()
	var rest []*testNode
	for _, n := range nodes {
		if n != leader {
			rest = append(rest, n)
		}
	}
	newLeader := leaderOf(t, rest)
	if newLeader == leader {
		t.Fatalf("the stopped node is still leader")
	}
	for _, n := range rest {
		if err := n.LinearizableBarrier(ctxT(t)); err != nil {
			t.Fatalf("barrier on %s: %v", n.ID(), err)
		}
		for _, id := range acked {
			if _, err := readMapping(n, id); err != nil {
				t.Fatalf("acknowledged write %s missing on %s: %v", id, n.ID(), err)
			}
		}
	}
}

func TestRestartedNodeCatchesUp(t *testing.T) {
	nodes := newCluster(t, 3)
	victim := nodes[2]
	if victim.IsLeader() {
		victim = nodes[1]
	}
	victim.stop()
	for i := 0; i < 1500; i++ { // more than the test SnapshotThreshold: forces a snapshot
		applyRetrying(t, nodes[0], mapping(fmt.Sprintf("i-%d", i)))
	}
	back := startNode(t, victim.ID(), victim.dir, victim.raft, false)
	leader := leaderOf(t, nodes)
	testkit.WaitFor(t, "restarted node to catch up", 30*time.Second, func() bool {
		a, _ := leader.Status(context.Background())
		b, _ := back.Status(context.Background())
		return a != nil && b != nil && a.FSMChecksumIdx == b.FSMChecksumIdx && a.FSMChecksum == b.FSMChecksum
	})
}

func TestRemoveAndReadd(t *testing.T) {
	nodes := newCluster(t, 3)
	leader := leaderOf(t, nodes)
	victim := nodes[2]
	if victim == leader {
		victim = nodes[1]
	}
	if err := victim.Remove(ctxT(t), victim.ID()); err != nil {
		t.Fatalf("remove via the removed node itself: %v", err)
	}
	st, _ := leader.Status(ctxT(t))
	if len(st.Servers) != 2 {
		t.Fatalf("got %d servers after remove, want 2", len(st.Servers))
	}
	if err := leader.Remove(ctxT(t), "ghost"); !errors.Is(err, ErrUnknownServer) {
		t.Fatalf("remove unknown: got %v, want ErrUnknownServer", err)
	}
	if err := leader.Join(ctxT(t), api.JoinRequest{NodeID: victim.ID(), RaftAddr: victim.raft}); err != nil {
		t.Fatalf("re-add: %v", err)
	}
	if err := leader.Join(ctxT(t), api.JoinRequest{NodeID: victim.ID(), RaftAddr: victim.raft}); err != nil {
		t.Fatalf("re-add twice must be a no-op: %v", err)
	}
	st, _ = leader.Status(ctxT(t))
	if len(st.Servers) != 3 {
		t.Fatalf("got %d servers after re-add, want 3", len(st.Servers))
	}
}

func TestRunAsLeaderFollowsLeadership(t *testing.T) {
	nodes := newCluster(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	running := make(chan string, 16)
	for _, n := range nodes {
		n := n
		go n.RunAsLeader(ctx, func(dctx context.Context) {
			running <- n.ID()
			<-dctx.Done()
		})
	}
	first := <-running
	leader := leaderOf(t, nodes)
	if first != leader.ID() {
		t.Fatalf("duty ran on %s, want the leader %s", first, leader.ID())
	}
	leader.stop()
	select {
	case next := <-running:
		if next == first {
			t.Fatalf("duty ran again on the stopped leader")
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no duty on the new leader")
	}
}

func TestRunAsLeaderReturnsWhenContextEnds(t *testing.T) {
	nodes := newCluster(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	runs := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		nodes[0].RunAsLeader(ctx, func(context.Context) { runs++ })
	}()
	testkit.WaitFor(t, "the duty to run", 10*time.Second, func() bool {
		select {
		case <-done:
			return true
		default:
		}
		return nodes[0].IsLeader()
	})
	cancel()
	<-done
	if runs > 1 {
		t.Fatalf("duty started %d times while leading in one term, want at most once", runs)
	}
}

// TestLeaderChecksForwardedEntries: whatever arrives on the leader's raft port as a forwarded
// write is decoded and validated before it is proposed. Undecodable bytes and commands that
// break the API's rules are refused as invalid, an entry of a newer log version as
// unsupported_version; none of them reaches the log, and a valid entry still commits.
func TestLeaderChecksForwardedEntries(t *testing.T) {
	nodes := newCluster(t, 3)
	leader := leaderOf(t, nodes)
	now := time.Now()
	tests := []struct {
		name  string
		entry []byte
		want  error
	}{
		{"unknown type", []byte{0x63}, ErrInvalid},
		{"empty", nil, ErrInvalid},
		{"truncated", fsm.Encode(mapping("t"), now)[:4], ErrInvalid},
		{"not a uuid", fsm.Encode(&fsm.DeleteCell{UUID: "cell1"}, now), ErrInvalid},
		{"newer log version", []byte{0, fsm.LogVersion + 1, byte(fsm.CmdNoop), 0}, ErrUnsupportedVersion},
	}
	before := leader.Node.raft.LastIndex()
	for _, tc := range tests {
		_, err := leader.forwardApply(ctxT(t), tc.entry)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if after := leader.Node.raft.LastIndex(); after != before {
		t.Fatalf("the log grew from %d to %d with refused entries", before, after)
	}
	res, err := leader.forwardApply(ctxT(t), fsm.Encode(mapping("ok"), now))
	if err != nil || res.Err != nil {
		t.Fatalf("valid entry: %v %v", err, res)
	}
}

// TestLeaderRefusesForwardedTxnOverMaxOps: a transaction is held to a bound on its ops (16384:
// above the API's TxnMaxOps, 10000 by default, and map_instances' largest batch with its
// marker) whichever way it reaches the leader, the raft port included: one frame must not
// propose millions of ops that every replica decodes and applies in one go. Nothing is
// proposed.
func TestLeaderRefusesForwardedTxnOverMaxOps(t *testing.T) {
	leader := leaderOf(t, newCluster(t, 1))
	txn := &fsm.Txn{}
	for i := 0; i <= 16384; i++ {
		txn.Ops = append(txn.Ops, fsm.Op{Kind: fsm.OpCheck, Table: fsm.TableHostMappings, Key: fmt.Sprintf("h%d", i)})
	}
	before := leader.Node.raft.LastIndex()
	if _, err := leader.forwardApply(ctxT(t), fsm.Encode(txn, time.Now())); !errors.Is(err, ErrInvalid) {
		t.Errorf("forwarded txn of %d ops: got %v, want %v", len(txn.Ops), err, ErrInvalid)
	}
	if _, err := leader.Apply(ctxT(t), txn); !errors.Is(err, ErrInvalid) {
		t.Errorf("local txn of %d ops: got %v, want %v", len(txn.Ops), err, ErrInvalid)
	}
	if after := leader.Node.raft.LastIndex(); after != before {
		t.Fatalf("the log grew from %d to %d with refused transactions", before, after)
	}
}
