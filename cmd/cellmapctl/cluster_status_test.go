package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

// TestClusterStatusAsksEveryMember: three real cellmapd processes; cluster status (reader: a
// reader token suffices, no token is refused) asked of a follower shows every member as it
// answered itself, with one leader and equal checksums once idle; after one member is
// killed it is shown unreachable and the exit code is 1.
func TestClusterStatusAsksEveryMember(t *testing.T) {
	t.Parallel()
	c := testcluster.StartCluster(t, nil)
	leader := c.Leader(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reader, err := leader.Client.CreateToken(ctx, api.TokenCreate{Role: "reader", Description: "cluster status"})
	if err != nil {
		t.Fatal(err)
	}
	var follower, victim *testcluster.ProcNode
	for _, n := range c.Nodes {
		if n != leader && follower == nil {
			follower = n
		} else if n != leader {
			victim = n
		}
	}
	status := func(token string, args ...string) result {
		t.Helper()
		return runCLI(t, map[string]string{"CELLMAP_TOKEN": token}, append([]string{"--addr", c.URL(follower)}, args...)...)
	}
	status("", "cluster", "status").want(t, exitUnexpected)

	r := status(reader.Secret, "--format", "json", "cluster", "status")
	var res clusterStatusResult
	decodeJSON(t, r, &res)
	if r.code != exitOK || !res.Healthy || res.LeaderID != leader.ID || len(res.Members) != 3 {
		t.Fatalf("exit %d, %+v", r.code, res)
	}
	for _, m := range res.Members {
		n := nodeByID(t, c, m.ID)
		if !m.Reachable || m.HTTPAddr != n.HTTP || m.RaftAddr != n.Raft || m.Suffrage != "Voter" || m.Health != "ok" || m.Lag == nil ||
			m.FSMChecksum == "" || m.Version == "" || (m.State == "Leader") != (m.ID == leader.ID) {
			t.Fatalf("member %s: %+v", m.ID, m)
		}
	}
	rows := tableRows(t, status(reader.Secret, "cluster", "status").stdout)
	if len(rows) != 3 {
		t.Fatalf("table: %q", rows)
	}

	if err := victim.Proc.Kill(); err != nil {
		t.Fatal(err)
	}
	r = status(reader.Secret, "cluster", "status")
	r.want(t, exitClusterDegraded, "unreachable")
	for _, row := range tableRows(t, r.stdout) {
		if (row[0] == victim.ID) != (row[3] == "unreachable") {
			t.Fatalf("row %q (killed %s)", row, victim.ID)
		}
	}
	res = clusterStatusResult{}
	decodeJSON(t, status(reader.Secret, "--format", "json", "cluster", "status"), &res)
	for _, m := range res.Members {
		if m.Reachable == (m.ID == victim.ID) || (m.ID == victim.ID && (m.Error == "" || m.Lag != nil)) {
			t.Fatalf("member %s after the kill: %+v", m.ID, m)
		}
	}
	if res.Healthy || res.LeaderID != leader.ID {
		t.Fatalf("after the kill: %+v", res)
	}
}

// nodeByID returns the process node called id.
func nodeByID(t *testing.T, c *testcluster.Cluster, id string) *testcluster.ProcNode {
	t.Helper()
	for _, n := range c.Nodes {
		if n.ID == id {
			return n
		}
	}
	t.Fatalf("no node %q", id)
	return nil
}

// TestClusterStatusSummary: the leader is the reachable member that leads in the highest
// term; lag is measured against its commit index; a cluster without one is not healthy.
func TestClusterStatusSummary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		members []memberStatus
		leader  string
		healthy bool
		lags    []string
	}{
		{"healthy", []memberStatus{
			{ID: "a", Reachable: true, State: "Leader", Term: 3, CommitIndex: 10, AppliedIndex: 10},
			{ID: "b", Reachable: true, State: "Follower", Term: 3, CommitIndex: 9, AppliedIndex: 7},
		}, "a", true, []string{"0", "3"}},
		{"stale leader of an older term", []memberStatus{
			{ID: "a", Reachable: true, State: "Leader", Term: 2, CommitIndex: 8, AppliedIndex: 8},
			{ID: "b", Reachable: true, State: "Leader", Term: 3, CommitIndex: 12, AppliedIndex: 11},
		}, "b", true, []string{"4", "1"}},
		{"ahead of the leader", []memberStatus{
			{ID: "a", Reachable: true, State: "Leader", Term: 3, CommitIndex: 10, AppliedIndex: 10},
			{ID: "b", Reachable: true, State: "Follower", Term: 3, CommitIndex: 11, AppliedIndex: 11},
		}, "a", true, []string{"0", "0"}},
		{"unreachable member", []memberStatus{
			{ID: "a", Reachable: true, State: "Leader", Term: 3, CommitIndex: 10, AppliedIndex: 10},
			{ID: "b", Error: "connection refused"},
		}, "a", false, []string{"0", "-"}},
		{"no leader", []memberStatus{
			{ID: "a", Reachable: true, State: "Candidate", Term: 4, CommitIndex: 10, AppliedIndex: 10},
			{ID: "b", Reachable: true, State: "Follower", Term: 4, CommitIndex: 10, AppliedIndex: 10},
		}, "", false, []string{"-", "-"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &clusterStatusResult{Members: tc.members}
			r.summarize()
			var lags []string
			for _, m := range r.Members {
				lag := "-"
				if m.Lag != nil {
					lag = strings.TrimSpace(m.row()[7])
				}
				lags = append(lags, lag)
			}
			if r.LeaderID != tc.leader || r.Healthy != tc.healthy || strings.Join(lags, ",") != strings.Join(tc.lags, ",") {
				t.Fatalf("got leader %q healthy %v lags %q", r.LeaderID, r.Healthy, lags)
			}
		})
	}
}
