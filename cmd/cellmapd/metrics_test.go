package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// scrape GETs /metrics with a token ("" none) and returns the status and the body.
func scrape(t *testing.T, addr, token string) (int, string) {
	t.Helper()
	return getStatus(t, addr, "/metrics", token)
}

// TestMetricsEndpoint: GET /metrics needs a reader token (none: 401) and serves the
// Prometheus exposition format with the raft, state, HTTP, data plane, gossip and process
// metrics of a leader; request counters move with load, by route template.
func TestMetricsEndpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{Size: 1})
	n := c.Nodes[0]
	reader, err := n.Client.CreateToken(ctx(t, 10*time.Second), api.TokenCreate{Role: "reader", Description: "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := scrape(t, n.HTTP, ""); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d, want 401", code)
	}
	for i := 0; i < 5; i++ {
		if _, err := n.Client.Cells(ctx(t, 5*time.Second), false); err != nil {
			t.Fatal(err)
		}
	}
	code, body := scrape(t, n.HTTP, reader.Secret)
	if code != http.StatusOK {
		t.Fatalf("reader: %d %s", code, body)
	}
	for _, want := range []string{
		`cellmap_raft_state{state="Leader"} 1`, "cellmap_raft_commit_index ", "cellmap_raft_voters 1",
		`cellmap_fsm_entries{table="acl_token"} 2`, "cellmap_fsm_file_bytes ", "cellmap_pending_deletes 0",
		`cellmap_http_requests_total{code="200",method="get",route="/v1/cells"} 5`,
		`cellmap_http_request_duration_seconds_bucket{method="get",route="/v1/cells",le="+Inf"} 5`,
		"cellmap_http_requests_in_flight 1", `cellmap_gossip_members{role="server",state="alive"} 1`,
		`cellmap_apply_seconds_count{outcome="ok"}`, `cellmap_schedule_outcomes_total{outcome="cell0"} 0`,
		"go_goroutines ", "process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

// TestQuotaReconcileRunsOnTheLeader: with --quota-reconcile-interval the leader runs
// reconciliation rounds (a project with a usage record and no server is clean) and reports
// them in /metrics.
func TestQuotaReconcileRunsOnTheLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{Size: 1, Args: []string{"--quota-reconcile-interval", "100ms"}})
	n := c.Nodes[0]
	reader, err := n.Client.CreateToken(ctx(t, 10*time.Second), api.TokenCreate{Role: "reader", Description: "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "clean reconciliation rounds in /metrics", 20*time.Second, func() bool {
		_, body := scrape(t, n.HTTP, reader.Secret)
		return strings.Contains(body, "cellmap_quota_drift_projects 0") && !strings.Contains(body, `cellmap_quota_reconcile_runs_total{result="clean"} 0`) &&
			strings.Contains(body, `cellmap_quota_reconcile_runs_total{result="clean"}`)
	})
}
