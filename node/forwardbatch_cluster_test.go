package node

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// batchRequest builds a ProtoApplyBatch request of entries.
func batchRequest(entries ...[]byte) []byte {
	req := binary.AppendUvarint(nil, uint64(len(entries)))
	for i, e := range entries {
		req = appendString(appendString(req, fmt.Sprintf("req-%d", i)), string(e))
	}
	return req
}

// TestLeaderAppliesABatchWriteByWrite: the leader checks and proposes every write of a
// forwarded batch on its own: refused entries, domain errors and successes come back in order,
// each with its own outcome, the valid writes are committed, and nothing refused enters the
// log. A follower, or a malformed batch, is refused whole before anything is proposed.
func TestLeaderAppliesABatchWriteByWrite(t *testing.T) {
	nodes := newCluster(t, 3)
	leader := leaderOf(t, nodes)
	now := time.Now()
	if res, err := leader.Apply(ctxT(t), mapping("taken")); err != nil || res.Err != nil {
		t.Fatalf("setup write: %v %v", err, res)
	}
	ifAbsent := func(key string) *fsm.Txn {
		txn := mapping(key)
		txn.Ops[0].IfAbsent = true
		return txn
	}
	entries := [][]byte{
		fsm.Encode(ifAbsent("a"), now),
		{0x63},
		fsm.Encode(ifAbsent("taken"), now),
		fsm.Encode(&fsm.DeleteCell{UUID: "cell1"}, now),
		fsm.Encode(ifAbsent("b"), now),
		{0, fsm.LogVersion + 1, byte(fsm.CmdNoop), 0},
	}
	before := leader.Node.raft.LastIndex()
	resp := leader.rpcApplyBatch(ctxT(t), batchRequest(entries...))
	if resp[0] != rpcOK {
		t.Fatalf("batch refused whole: %v", decodeErrorAnswer(resp))
	}
	answers, err := splitAnswers(resp[1:], len(entries))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]forwardOutcome, len(answers))
	for i, a := range answers {
		out[i] = decodeAnswer(a)
	}
	for _, i := range []int{0, 4} {
		if out[i].err != nil || out[i].res.Err != nil || !out[i].res.Changed {
			t.Errorf("write %d (a new mapping): got %+v %v", i, out[i].res, out[i].err)
		}
	}
	if out[2].err != nil || !errors.Is(out[2].res.Err, fsm.ErrExists) {
		t.Errorf("write 2 (an existing mapping): got %+v %v, want ErrExists", out[2].res, out[2].err)
	}
	for i, want := range map[int]error{1: ErrInvalid, 3: ErrInvalid, 5: ErrUnsupportedVersion} {
		if !errors.Is(out[i].err, want) {
			t.Errorf("write %d: got %+v %v, want %v", i, out[i].res, out[i].err, want)
		}
	}
	if got := leader.Node.raft.LastIndex() - before; got != 3 {
		t.Errorf("the log grew by %d entries, want 3 (the two creates and the refused-by-state one)", got)
	}
	for _, k := range []string{"a", "b"} {
		if m, err := readMapping(leader, k); err != nil || m == nil {
			t.Errorf("mapping %s after the batch: %+v %v", k, m, err)
		}
	}

	var follower *testNode
	for _, n := range nodes {
		if n != leader {
			follower = n
		}
	}
	refusals := []struct {
		name string
		n    *testNode
		req  []byte
		want error
	}{
		{"on a follower", follower, batchRequest(fsm.Encode(ifAbsent("c"), now)), ErrNotLeader},
		{"malformed", leader, append(batchRequest(fsm.Encode(ifAbsent("c"), now)), 1), ErrInvalid},
		{"empty", leader, binary.AppendUvarint(nil, 0), ErrInvalid},
	}
	before = leader.Node.raft.LastIndex()
	for _, tc := range refusals {
		resp := tc.n.rpcApplyBatch(ctxT(t), tc.req)
		if resp[0] == rpcOK {
			t.Errorf("%s: answered OK", tc.name)
		} else if err := decodeErrorAnswer(resp); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if after := leader.Node.raft.LastIndex(); after != before {
		t.Fatalf("refused batches grew the log from %d to %d", before, after)
	}
}

// writeOutcome is what one write of TestForwardedWritesAcrossLeaderChange was told.
type writeOutcome struct {
	key string
	res *fsm.Result
	err error
}

// TestForwardedWritesAcrossLeaderChange: followers forward concurrent writes in batches while
// leadership moves to another node. Every write is told either its real result (then its
// mapping is in the state at that revision), a definite failure (then it is not), or
// outcome unknown; never a wrong one.
func TestForwardedWritesAcrossLeaderChange(t *testing.T) {
	nodes := newCluster(t, 3)
	leader := leaderOf(t, nodes)
	var followers []*testNode
	for _, n := range nodes {
		if n != leader {
			followers = append(followers, n)
		}
	}
	const writers, perWriter = 16, 25
	var (
		mu       sync.Mutex
		outcomes []writeOutcome
		acked    int
	)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := followers[w%2]
			for i := 0; i < perWriter; i++ {
				key := fmt.Sprintf("w%d-%d", w, i)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				res, err := n.Apply(ctx, mapping(key))
				cancel()
				mu.Lock()
				outcomes = append(outcomes, writeOutcome{key, res, err})
				if err == nil {
					acked++
				}
				mu.Unlock()
			}
		}()
	}
	testkit.WaitFor(t, "the first forwarded writes acknowledged", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return acked >= writers
	})
	if err := leader.Node.raft.LeadershipTransfer().Error(); err != nil {
		t.Fatalf("leadership transfer: %v", err)
	}
	newLeader := leaderOf(t, followers)
	wg.Wait()
	if err := newLeader.LinearizableBarrier(ctxT(t)); err != nil {
		t.Fatalf("barrier: %v", err)
	}
	var ok, definite, unknown int
	for _, o := range outcomes {
		m, rerr := readMapping(newLeader, o.key)
		switch {
		case o.err == nil:
			ok++
			if rerr != nil || m.Revision != o.res.Index || o.res.Err != nil {
				t.Errorf("%s acknowledged at index %d (%v): the state has %+v (%v)", o.key, o.res.Index, o.res.Err, m, rerr)
			}
		case errors.Is(o.err, ErrOutcomeUnknown):
			unknown++
		default:
			definite++
			if rerr == nil {
				t.Errorf("%s failed definitely (%v) but is in the state: %+v", o.key, o.err, m)
			}
		}
	}
	t.Logf("%d writes: %d acknowledged, %d failed definitely, %d unknown", len(outcomes), ok, definite, unknown)
	if ok == 0 {
		t.Fatal("no write was acknowledged")
	}
}
