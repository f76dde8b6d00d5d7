package cellproxy_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/metrics"
)

// metricValue reads a gauge or counter of the registry (labels as name/value pairs); -1 when absent.
func metricValue(t *testing.T, reg *metrics.Registry, name string, labels ...string) float64 {
	t.Helper()
	fams, err := reg.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, labels) {
				if m.GetGauge() != nil {
					return m.GetGauge().GetValue()
				}
				return m.GetCounter().GetValue()
			}
		}
	}
	return -1
}

func hasLabels(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
		}
		if !found {
			return false
		}
	}
	return true
}

// reconcilingDataPlane starts a data plane with two cells whose leader reconciles quotas every
// 50 ms, reporting to the returned metrics registry.
func reconcilingDataPlane(t *testing.T) (*testcluster.DataPlane, *testcluster.Conductor, *testcluster.Conductor, *metrics.Registry) {
	reg := metrics.New()
	dp := testcluster.StartDataPlane(t, &testcluster.DataPlaneOptions{Proxy: func(c *cellproxy.Config) {
		c.Observer, c.QuotaReconcileInterval, c.QuotaReconcileBatch = reg, 50*time.Millisecond, 2
	}})
	c1 := dp.AddCell(t, "cell1", cell1, hosts)
	c2 := dp.AddCell(t, "cell2", cell2, hosts)
	addFlavor(t, dp.Client, "1", 1, 512)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); dp.Node.Node.RunAsLeader(ctx, dp.Proxy.ReconcileQuotasLoop) }()
	t.Cleanup(func() { cancel(); <-done })
	return dp, c1, c2, reg
}

// waitRuns waits until the leader finished n more reconciliation rounds with result.
func waitRuns(t *testing.T, reg *metrics.Registry, result string, n float64) {
	t.Helper()
	from := metricValue(t, reg, "cellmap_quota_reconcile_runs_total", "result", result)
	testkit.WaitFor(t, fmt.Sprintf("%v more %s reconciliation rounds", n, result), 20*time.Second, func() bool {
		return metricValue(t, reg, "cellmap_quota_reconcile_runs_total", "result", result) >= from+n
	})
}

// rawUsage overwrites a project's usage record with a raw state write, behind the API's back.
func rawUsage(t *testing.T, dp *testcluster.DataPlane, project string, instances int64) {
	t.Helper()
	if _, err := dp.Node.Node.Apply(ctxT(t), &fsm.Txn{Ops: []fsm.Op{{Kind: fsm.OpPut, Table: fsm.TableQuotaUsages,
		Record: &fsm.QuotaUsage{ProjectID: project, QuotaSet: fsm.QuotaSet{Instances: instances, Cores: instances, RAMMB: 512 * instances}}}}}); err != nil {
		t.Fatal(err)
	}
}

// TestQuotaReconcileReportsDrift: the leader's reconciliation finds no drift while usage
// matches the cells, then reports (metric, the round's report) a server a cell holds that the
// API tier does not know and a usage record changed behind the API's back, and stops
// reporting once the cell's extra server is gone; it never fixes by default, and with fix
// replaces the usage with the state's recount (so `quota verify` agrees). Three projects and
// batches of two make the rounds walk the projects in turns.
func TestQuotaReconcileReportsDrift(t *testing.T) {
	dp, c1, _, reg := reconcilingDataPlane(t)
	c := dp.Client
	for i, p := range []string{"p1", "p1", "p2", "p3"} {
		createAndWait(t, c, fmt.Sprintf("vm%d", i), p, "1")
	}
	waitRuns(t, reg, "clean", 3)
	if v := metricValue(t, reg, "cellmap_quota_drift_projects"); v != 0 {
		t.Fatalf("drift gauge %v with exact usage", v)
	}

	// A server of p2 in cell1 that the API tier never created.
	ghost := api.NewUUID()
	if _, err := client.New(c1.Addr, nil).Do(ctxT(t), "POST", "/v1/instances", nil, api.InstanceCreate{UUID: ghost, Name: "ghost",
		ProjectID: "p2", UserID: "u", Flavor: api.Flavor{ID: "1", Name: "f1", VCPUs: 1, RAMMB: 512, DiskGB: 1}, CreatedAt: time.Now()}, nil); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the drift reported", 20*time.Second, func() bool {
		return metricValue(t, reg, "cellmap_quota_drift_projects") == 1
	})
	var rep *cellproxy.QuotaReport
	var err error
	testkit.WaitFor(t, "a round judging every project", 20*time.Second, func() bool { // gossip on a busy machine may suspect a cell
		rep, _, err = dp.Proxy.ReconcileQuotas(ctxT(t), "", 10, false)
		return err == nil && len(rep.Skipped) == 0
	})
	if len(rep.Drift) != 1 || rep.Drift[0].ProjectID != "p2" || !slices.Equal(rep.Drift[0].Unknown, []string{ghost}) ||
		rep.Drift[0].Counted != (fsm.QuotaSet{Instances: 2, Cores: 2, RAMMB: 1024}) || rep.Drift[0].Recorded.Instances != 1 {
		t.Fatalf("report %+v, want p2 drifted by the unknown server", rep)
	}
	if _, err := client.New(c1.Addr, nil).Do(ctxT(t), "DELETE", "/v1/instances/"+ghost, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the drift gone", 20*time.Second, func() bool {
		return metricValue(t, reg, "cellmap_quota_drift_projects") == 0
	})

	// p3's usage changed behind the API's back: reported, not fixed (the default).
	rawUsage(t, dp, "p3", 5)
	testkit.WaitFor(t, "the changed usage reported", 20*time.Second, func() bool {
		return metricValue(t, reg, "cellmap_quota_drift_projects") == 1
	})
	waitRuns(t, reg, "drift", 2)
	if v, err := c.VerifyQuotas(ctxT(t), false); err != nil || len(v.Drift) != 1 || v.Drift[0].ProjectID != "p3" {
		t.Fatalf("quota verify %+v (%v): the reconciler must not have fixed p3", v, err)
	}
	testkit.WaitFor(t, "a round with fix judging p3", 20*time.Second, func() bool {
		rep, _, err = dp.Proxy.ReconcileQuotas(ctxT(t), "p2", 1, true)
		return err == nil && len(rep.Skipped) == 0
	})
	if !slices.Equal(rep.Fixed, []string{"p3"}) {
		t.Fatalf("fix round %+v, want p3 fixed", rep)
	}
	if v, err := c.VerifyQuotas(ctxT(t), false); err != nil || len(v.Drift) != 0 {
		t.Fatalf("quota verify after the fix: %+v (%v)", v, err)
	}
	if q, err := c.Quota(ctxT(t), "p3"); err != nil || q.Usage != (api.QuotaValues{Instances: 1, Cores: 1, RAM: 512}) {
		t.Fatalf("p3 after the fix: %+v (%v)", q, err)
	}
	testkit.WaitFor(t, "the gauge clear after the fix", 20*time.Second, func() bool {
		return metricValue(t, reg, "cellmap_quota_drift_projects") == 0
	})
}

// TestQuotaReconcileSkipsDownCells: a project with servers in a down cell is skipped, not
// reported as drift, even when its usage record is wrong; once the cell is back the drift is
// found. A project whose servers are all in the live cell is still checked.
func TestQuotaReconcileSkipsDownCells(t *testing.T) {
	dp, _, c2, reg := reconcilingDataPlane(t)
	c := dp.Client
	byCell := map[string][]string{}
	for i := 0; i < 4; i++ { // the emptiest cell takes each: they alternate
		s := createAndWait(t, c, fmt.Sprintf("vm%d", i), "p1", "1")
		byCell[s.CellUUID] = append(byCell[s.CellUUID], s.ID)
	}
	if len(byCell[cell1]) == 0 || len(byCell[cell2]) == 0 {
		t.Fatalf("p1's servers not in both cells: %v", byCell)
	}
	c2.Stop()
	testkit.WaitFor(t, "cell2 down", 15*time.Second, func() bool { return !dp.Registry.Up(cell2) })
	rawUsage(t, dp, "p1", 9)
	rep, _, err := dp.Proxy.ReconcileQuotas(ctxT(t), "", 10, false)
	if err != nil || !slices.Equal(rep.Skipped, []string{"p1"}) || len(rep.Drift) != 0 {
		t.Fatalf("report %+v (%v), want p1 skipped", rep, err)
	}
	testkit.WaitFor(t, "the leader's rounds skip p1", 20*time.Second, func() bool {
		return metricValue(t, reg, "cellmap_quota_reconcile_skipped_projects") == 1
	})
	waitRuns(t, reg, "clean", 2)
	if v := metricValue(t, reg, "cellmap_quota_drift_projects"); v != 0 {
		t.Fatalf("drift gauge %v with the project's cell down", v)
	}
	c2.Restart(t)
	testkit.WaitFor(t, "cell2 up", 15*time.Second, func() bool { return dp.Registry.Up(cell2) })
	testkit.WaitFor(t, "the drift found once the cell is back", 20*time.Second, func() bool {
		return metricValue(t, reg, "cellmap_quota_drift_projects") == 1
	})
}
