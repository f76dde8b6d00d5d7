package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/backup"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/gossip"
	"github.com/cellmap/cellmap/node"
)

type fakeRaft node.Metrics

func (f fakeRaft) Metrics() node.Metrics { return node.Metrics(f) }

type fakeState struct{ calls *int }

func (f fakeState) Stats() (fsm.Stats, error) {
	*f.calls++
	return fsm.Stats{FileBytes: 4096, FreePages: 2, Entries: map[string]int{"cell": 3, "pending_delete": 1}}, nil
}

type fakeCells map[string]*api.CellHealth

func (f fakeCells) CellsHealth() map[string]*api.CellHealth { return f }

type fakeGossip []gossip.Member

func (f fakeGossip) Members() []gossip.Member { return f }

type fakeBackups backup.Status

func (f fakeBackups) Status() backup.Status { return backup.Status(f) }

// TestStateCollector reads fake sources: each metric has the value of its source, the state
// is counted once within StatsEvery, and sources left nil leave their metrics out.
func TestStateCollector(t *testing.T) {
	r := New()
	calls := 0
	r.SetSources(Sources{
		Raft:  fakeRaft{State: "Follower", Term: 7, CommitIndex: 40, AppliedIndex: 39, Last: 41, LastContact: 1500 * time.Millisecond, LeaderChanges: 2, Voters: 3},
		State: fakeState{&calls},
		Cells: fakeCells{"c1": {Status: "up", Conductors: 2}, "c2": {Status: "down"}},
		Gossip: fakeGossip{{Meta: api.GossipMeta{Role: "server"}, Alive: true}, {Meta: api.GossipMeta{Role: "conductor"}, Alive: true},
			{Meta: api.GossipMeta{Role: "conductor"}}},
		Backups: fakeBackups{LastSuccess: time.Unix(1000, 0), Failures: 4},
	})
	want := `
# HELP cellmap_cell_up 1 when the cell's conductor is usable, 0 when the cell is down or never seen.
# TYPE cellmap_cell_up gauge
cellmap_cell_up{cell="c1"} 1
cellmap_cell_up{cell="c2"} 0
# HELP cellmap_gossip_members Gossip pool members as this node sees them, by role and state (alive, failed).
# TYPE cellmap_gossip_members gauge
cellmap_gossip_members{role="conductor",state="alive"} 1
cellmap_gossip_members{role="conductor",state="failed"} 1
cellmap_gossip_members{role="server",state="alive"} 1
# HELP cellmap_pending_deletes Servers queued for delete whose cell has not confirmed the delete.
# TYPE cellmap_pending_deletes gauge
cellmap_pending_deletes 1
# HELP cellmap_raft_last_contact_seconds Seconds since the leader (on the leader: a quorum) was last heard from.
# TYPE cellmap_raft_last_contact_seconds gauge
cellmap_raft_last_contact_seconds 1.5
# HELP cellmap_raft_leader_changes_total Leader changes this node observed since it started.
# TYPE cellmap_raft_leader_changes_total counter
cellmap_raft_leader_changes_total 2
# HELP cellmap_backup_failures_total Periodic backups that failed since start.
# TYPE cellmap_backup_failures_total counter
cellmap_backup_failures_total 4
`
	names := []string{"cellmap_cell_up", "cellmap_gossip_members", "cellmap_pending_deletes", "cellmap_raft_last_contact_seconds",
		"cellmap_raft_leader_changes_total", "cellmap_backup_failures_total"}
	if err := testutil.GatherAndCompare(r.Gatherer(), strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Gatherer().Gather(); err != nil || calls != 1 {
		t.Fatalf("two scrapes counted the state %d times (%v), want once within StatsEvery", calls, err)
	}
	r.SetSources(Sources{})
	if n, err := testutil.GatherAndCount(r.Gatherer(), "cellmap_cell_up", "cellmap_raft_term"); err != nil || n != 0 {
		t.Fatalf("without sources: %d series (%v)", n, err)
	}
}

// TestRouteAndApplyInstruments: a route's requests are counted by template, method and code.
func TestRouteAndApplyInstruments(t *testing.T) {
	r := New()
	h := r.Route("GET", "/v1/cells/{uuid}")(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) }))
	for i := 0; i < 3; i++ {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/cells/x", nil))
	}
	r.ObserveApply(time.Millisecond, nil)
	r.ConductorCall("c1", "get", time.Millisecond, errTest{})
	want := `
# HELP cellmap_http_requests_total HTTP API requests, by route template, method and status code.
# TYPE cellmap_http_requests_total counter
cellmap_http_requests_total{code="404",method="get",route="/v1/cells/{uuid}"} 3
# HELP cellmap_conductor_call_errors_total Requests to the cells' conductors that failed, by cell and operation.
# TYPE cellmap_conductor_call_errors_total counter
cellmap_conductor_call_errors_total{cell="c1",op="get"} 1
`
	if err := testutil.GatherAndCompare(r.Gatherer(), strings.NewReader(want), "cellmap_http_requests_total", "cellmap_conductor_call_errors_total"); err != nil {
		t.Fatal(err)
	}
	if n, _ := testutil.GatherAndCount(r.Gatherer(), "cellmap_apply_seconds"); n != 1 {
		t.Fatalf("apply histogram series: %d", n)
	}
}

type errTest struct{}

func (errTest) Error() string { return "test" }
