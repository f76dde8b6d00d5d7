package node

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// tokenAccessors reads the accessors of the tokens a node's state holds.
func tokenAccessors(t *testing.T, n *testNode) []string {
	t.Helper()
	var out []string
	if _, err := n.Read(ctxT(t), LocalUnchecked{}, func(r *fsm.Reader) error {
		ts, err := r.Tokens()
		for _, tk := range ts {
			out = append(out, tk.AccessorID)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// createTokens writes tokens whose expiry is expires (zero: never) and returns their accessors.
func createTokens(t *testing.T, n *testNode, from, count int, expires time.Time) []string {
	t.Helper()
	var out []string
	for i := from; i < from+count; i++ {
		acc := fmt.Sprintf("%08d-ab5d-42de-b8e7-4b3c1c7e0d3a", i)
		applyRetrying(t, n, &fsm.TokenCreate{Token: fsm.ACLToken{AccessorID: acc, SecretHash: fmt.Sprintf("%064d", i),
			Role: "reader", ExpiresAt: expires}})
		out = append(out, acc)
	}
	return out
}

// TestPurgeExpiredTokens: a purge deletes only expired tokens, at most max of them, from every
// replica; it is proposed from a follower as well as from the leader.
func TestPurgeExpiredTokens(t *testing.T) {
	nodes := newCluster(t, 3)
	leader := leaderOf(t, nodes)
	follower := nodes[0]
	if follower == leader {
		follower = nodes[1]
	}
	now := time.Now()
	createTokens(t, leader, 1, 5, now.Add(-time.Hour))
	keep := append(createTokens(t, leader, 100, 1, time.Time{}), createTokens(t, leader, 200, 1, now.Add(time.Hour))...)
	n, err := follower.PurgeExpiredTokens(ctxT(t), now, 3)
	if err != nil || n != 3 {
		t.Fatalf("first purge (max 3): %d %v", n, err)
	}
	if n, err := leader.PurgeExpiredTokens(ctxT(t), now, 100); err != nil || n != 2 {
		t.Fatalf("second purge: %d %v, want the 2 left", n, err)
	}
	if n, err := leader.PurgeExpiredTokens(ctxT(t), now, 100); err != nil || n != 0 {
		t.Fatalf("third purge: %d %v, want nothing", n, err)
	}
	for _, nd := range nodes {
		testkit.WaitFor(t, "the purge on "+nd.ID(), 10*time.Second, func() bool {
			return slices.Equal(tokenAccessors(t, nd), keep)
		})
	}
}

// TestPurgeTokensDuty: the leader duty removes tokens once they are past expiry plus grace,
// in rounds of at most MaxPerRound, and keeps the others: one that never expires, one that
// expires later, and one that expired within the grace (kept while the rounds purge the
// tokens created with it).
func TestPurgeTokensDuty(t *testing.T) {
	nodes := newCluster(t, 3)
	leader := leaderOf(t, nodes)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := TokenPurge{Interval: 50 * time.Millisecond, Grace: time.Hour, MaxPerRound: 2}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, len(nodes))
	for _, n := range nodes {
		go func() { n.RunAsLeader(ctx, n.PurgeTokens(cfg)); done <- struct{}{} }()
	}
	now := time.Now()
	keep := createTokens(t, leader, 1, 1, time.Time{})
	keep = append(keep, createTokens(t, leader, 2, 1, now.Add(time.Hour))...)
	keep = append(keep, createTokens(t, leader, 3, 1, now.Add(-time.Minute))...)
	createTokens(t, leader, 10, 5, now.Add(-2*time.Hour))
	for _, nd := range nodes {
		testkit.WaitFor(t, "expired tokens purged on "+nd.ID(), 20*time.Second, func() bool {
			return slices.Equal(tokenAccessors(t, nd), keep)
		})
	}
	cancel()
	for range nodes {
		<-done
	}
}

func TestTokenPurgeValidate(t *testing.T) {
	for name, c := range map[string]TokenPurge{
		"negative interval": {Interval: -1, MaxPerRound: 1},
		"negative grace":    {Grace: -1, MaxPerRound: 1},
		"no max":            {Interval: time.Second},
	} {
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := DefaultTokenPurge().Validate(); err != nil {
		t.Error(err)
	}
}
