package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/poll"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// suffrageOf returns the suffrage of id in the leader's configuration ("" when absent).
func suffrageOf(t *testing.T, c *client.Client, id string) string {
	t.Helper()
	st, err := c.ClusterStatus(ctx(t, 2*time.Second))
	if err != nil {
		return "?"
	}
	for _, s := range st.Servers {
		if s.ID == id {
			return s.Suffrage
		}
	}
	return ""
}

// autopilotServer returns id's entry of an autopilot health answer.
func autopilotServer(h *api.AutopilotHealth, id string) *api.AutopilotServer {
	for i := range h.Servers {
		if h.Servers[i].ID == id {
			return &h.Servers[i]
		}
	}
	return nil
}

// TestAutopilot: three real processes with autopilot (minimum quorum 3, dead-server
// threshold 2 s, stabilisation 3 s). GET /v1/operator/autopilot/health needs a reader token
// (refused without one) and answers on a follower too. A killed voter is seen failed but not
// removed: that would leave 2 voters, below the minimum quorum (the leader logs why). A new
// node joined through the API is a non-voter, promoted to voter no earlier than its
// stabilisation time after it became healthy; with 4 voters the dead one can go without
// going below 3, and autopilot removes it.
func TestAutopilot(t *testing.T) {
	t.Parallel()
	const stabilization = 3 * time.Second
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{Args: []string{
		"--autopilot-min-quorum", "3", "--autopilot-dead-server-threshold", "2s",
		"--autopilot-server-stabilization-time", stabilization.String(), "--log-format", "json", "--log-level", "debug"}})
	leader := c.Leader(t)
	lc := leader.Client
	reader, err := lc.CreateToken(ctx(t, 10*time.Second), api.TokenCreate{Role: "reader", Description: "autopilot"})
	if err != nil {
		t.Fatal(err)
	}
	var follower, victim *testcluster.ProcNode
	for _, n := range c.Nodes {
		switch {
		case n == leader:
		case follower == nil:
			follower = n
		default:
			victim = n
		}
	}

	// Permissions: no token is refused; a reader token on a follower gets the leader's view.
	if _, err := follower.Client.WithToken("").AutopilotHealth(ctx(t, 5*time.Second)); client.CodeOf(err) != api.CodeUnauthenticated {
		t.Fatalf("no token: got %v, want 401 unauthenticated", err)
	}
	fr := follower.Client.WithToken(reader.Secret)
	testkit.WaitFor(t, "every server healthy", 30*time.Second, func() bool {
		h, err := fr.AutopilotHealth(ctx(t, 5*time.Second))
		return err == nil && h.Healthy && h.Leader == leader.ID && len(h.Voters) == 3 && h.FailureTolerance == 1 && h.Config.MinQuorum == 3
	})

	// Minimum quorum: the killed voter stays.
	if err := victim.Proc.Kill(); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the leader declines to remove "+victim.ID, 60*time.Second, func() bool {
		return logged(leader, "will not remove server node as it would leave less voters than the minimum number allowed", victim.ID)
	})
	// The reconcile loop that logged reads gossip afresh; the state the endpoint answers
	// from is refreshed on its own interval, so it shows the failure up to that much later.
	var last string
	if err := poll.Until(context.Background(), 10*time.Second, func(context.Context) bool {
		h, err := fr.AutopilotHealth(ctx(t, 5*time.Second))
		if err != nil {
			last = err.Error()
			return false
		}
		v := autopilotServer(h, victim.ID)
		last = fmt.Sprintf("%+v (healthy %v)", v, h.Healthy)
		return v != nil && v.NodeStatus == "failed" && !v.Healthy && v.FailedSince != nil && !h.Healthy
	}); err != nil {
		t.Fatalf("the killed voter in the autopilot state: %s", last)
	}
	if s := suffrageOf(t, lc, victim.ID); s != "Voter" {
		t.Fatalf("%s is %q, want still a voter (minimum quorum 3)", victim.ID, s)
	}

	// Stable-server introduction: n4 joins as a non-voter and is promoted after stabilising.
	// Autopilot applies the stabilisation time once it has itself run that long (before, it
	// could not have seen any server stable for it): wait for that, seen from the leader's
	// entry, healthy since autopilot's first state.
	testkit.WaitFor(t, "autopilot running for the stabilisation time", 30*time.Second, func() bool {
		h, err := lc.AutopilotHealth(ctx(t, 5*time.Second))
		if err != nil {
			return false
		}
		l := autopilotServer(h, leader.ID)
		return l != nil && l.Healthy && time.Since(l.StableSince) > stabilization+time.Second
	})
	n4 := &testcluster.ProcNode{ID: "n4", Dir: t.TempDir(), HTTP: testkit.FreeAddr(t), Raft: testkit.FreeAddr(t), Gossip: testkit.FreeUDPTCPAddr(t)}
	c.Start(t, n4, "--gossip-join", leader.Gossip)
	testkit.WaitFor(t, "n4 joined", 30*time.Second, func() bool {
		return lc.Join(ctx(t, 5*time.Second), n4.ID, n4.Raft) == nil
	})
	if s := suffrageOf(t, lc, n4.ID); s != "Nonvoter" {
		t.Fatalf("n4 right after its join: %q, want Nonvoter", s)
	}
	testkit.WaitFor(t, "n4 promoted", 60*time.Second, func() bool { return suffrageOf(t, lc, n4.ID) == "Voter" })
	promoted := time.Now()
	h, err := lc.AutopilotHealth(ctx(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	s4 := autopilotServer(h, n4.ID)
	if s4 == nil || !s4.Healthy || promoted.Before(s4.StableSince.Add(stabilization)) {
		t.Fatalf("n4 promoted at %v: %+v, want healthy since at least %v before", promoted, s4, stabilization)
	}

	// Dead-server cleanup: with four voters the dead one goes (three are left).
	testkit.WaitFor(t, victim.ID+" removed", 60*time.Second, func() bool { return suffrageOf(t, lc, victim.ID) == "" })
	// The line follows the configuration change.
	testkit.WaitFor(t, "the leader logs the removal", 10*time.Second, func() bool {
		return logged(leader, "autopilot: removed a dead server", victim.ID)
	})
	st, err := lc.ClusterStatus(ctx(t, 5*time.Second))
	if err != nil || testcluster.Voters(st) != 3 {
		t.Fatalf("after the cleanup: %+v, %v; want 3 voters", st, err)
	}
}

// TestAutopilotRemovesKilledVoter: three real processes (no minimum quorum, dead-server
// threshold 2 s); a follower is killed (-9) and autopilot removes it; the two left are the
// voters and the cluster takes writes.
func TestAutopilotRemovesKilledVoter(t *testing.T) {
	t.Parallel()
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{Args: []string{"--autopilot-dead-server-threshold", "2s"}})
	leader := c.Leader(t)
	var victim *testcluster.ProcNode
	for _, n := range c.Nodes {
		if n != leader {
			victim = n
		}
	}
	if err := victim.Proc.Kill(); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, victim.ID+" removed", 60*time.Second, func() bool { return suffrageOf(t, leader.Client, victim.ID) == "" })
	st, err := leader.Client.ClusterStatus(ctx(t, 5*time.Second))
	if err != nil || testcluster.Voters(st) != 2 || len(st.Servers) != 2 {
		t.Fatalf("after the removal: %+v, %v; want 2 voters", st, err)
	}
	if _, err := leader.Client.CreateFlavor(ctx(t, 10*time.Second), api.Flavor{ID: "f", Name: "f", VCPUs: 1, RAMMB: 1}); err != nil {
		t.Fatalf("a write after the removal: %v", err)
	}
}

// TestAutopilotKeepsServerCutFromGossip: a voter restarted into a gossip pool of its own is
// failed for the others' pool, yet it answers on its raft port, so autopilot does not remove
// it: gossip alone never changes raft membership.
func TestAutopilotKeepsServerCutFromGossip(t *testing.T) {
	t.Parallel()
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{Args: []string{
		"--autopilot-dead-server-threshold", "1s", "--log-format", "json"}})
	leader := c.Leader(t)
	var cut *testcluster.ProcNode
	for _, n := range c.Nodes {
		if n != leader {
			cut = n
		}
	}
	if err := cut.Proc.Kill(); err != nil {
		t.Fatal(err)
	}
	cut.Gossip = testkit.FreeUDPTCPAddr(t)
	c.Start(t, cut) // on its data, a new gossip address and no --gossip-join: a pool of its own
	testkit.WaitFor(t, "the leader declines to remove "+cut.ID, 60*time.Second, func() bool {
		return logged(leader, "autopilot: not removing a server failed in the gossip pool: it answers on its raft port", cut.ID)
	})
	if s := suffrageOf(t, leader.Client, cut.ID); s != "Voter" {
		t.Fatalf("%s is %q, want still a voter", cut.ID, s)
	}
}

// logged reports whether node n logged (JSON lines) a line with message msg and id.
func logged(n *testcluster.ProcNode, msg, id string) bool {
	for _, line := range strings.Split(n.Proc.Output(), "\n") {
		if strings.Contains(line, fmt.Sprintf("%q", msg)) && strings.Contains(line, fmt.Sprintf(`"id":%q`, id)) {
			return true
		}
	}
	return false
}

// TestAutopilotDisabled: with --autopilot=false a node that joins is a voter at once and
// the autopilot endpoint answers 404 autopilot_disabled (to a reader: the admin token here).
func TestAutopilotDisabled(t *testing.T) {
	t.Parallel()
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{Size: 2, Args: []string{"--autopilot=false"}})
	st, err := c.Nodes[0].Client.ClusterStatus(ctx(t, 5*time.Second))
	if err != nil || testcluster.Voters(st) != 2 {
		t.Fatalf("status %+v, %v", st, err)
	}
	_, err = c.Nodes[1].Client.AutopilotHealth(ctx(t, 5*time.Second))
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || ae.Code != api.CodeAutopilotDisabled {
		t.Fatalf("got %v, want 404 autopilot_disabled", err)
	}
}
