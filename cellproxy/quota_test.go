package cellproxy_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestQuotaParallelCreates: 100 parallel creates of one project against a limit of 10
// instances: exactly 10 are accepted, the others are refused with 403 quota_exceeded; deletes
// release (cores and RAM too); with one cell down the project still creates in the other, and
// the recorded usage equals a recount (no drift), and once the cell is back the leader's
// reconciliation with the cells' records finds no drift either. Roles: setting limits needs operator (a
// service token is refused); reading them reader.
func TestQuotaParallelCreates(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	c := dp.Client
	dp.AddCell(t, "cell1", cell1, hosts)
	c2 := dp.AddCell(t, "cell2", cell2, hosts)
	addFlavor(t, c, "1", 1, 512)
	ten, mem := int64(10), int64(10*512)
	svc, err := c.CreateToken(ctxT(t), api.TokenCreate{Role: "service", Description: "api tier"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WithToken(svc.Secret).SetQuota(ctxT(t), "p1", api.QuotaUpdate{Instances: &ten}); client.CodeOf(err) != api.CodeForbidden {
		t.Fatalf("a service token set limits: %v", err)
	}
	if _, err := c.SetQuota(ctxT(t), "p1", api.QuotaUpdate{Instances: &ten, RAM: &mem}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var accepted []string
	refused := 0
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s, err := c.WithToken(svc.Secret).CreateServer(ctxT(t), api.ServerCreateSpec{Name: fmt.Sprintf("vm%d", i), FlavorRef: "1", ProjectID: "p1", UserID: "u"})
			mu.Lock()
			defer mu.Unlock()
			var ce *client.Error
			switch {
			case err == nil:
				accepted = append(accepted, s.ID)
			case client.CodeOf(err) == api.CodeQuotaExceeded && errors.As(err, &ce) && ce.Status == 403:
				refused++
			default:
				t.Errorf("create %d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	if len(accepted) != 10 || refused != 90 {
		t.Fatalf("%d accepted, %d refused; want exactly 10 and 90", len(accepted), refused)
	}
	q, err := c.WithToken(svc.Secret).Quota(ctxT(t), "p1")
	if err != nil || q.Usage != (api.QuotaValues{Instances: 10, Cores: 10, RAM: 5120}) || q.Limits.Instances != 10 || !q.OwnLimits {
		t.Fatalf("quota %+v (%v)", q, err)
	}
	// Each leaves BUILD, ACTIVE in a cell or, when gossip on a busy machine briefly suspected
	// both cells, ERROR in cell0: either way it counts until deleted.
	byCell := map[string][]string{}
	for _, id := range accepted {
		s := waitBuilt(t, c, id)
		byCell[s.CellUUID] = append(byCell[s.CellUUID], id)
	}
	// Release: delete three in cell1 (or wherever they are up).
	for _, id := range accepted[:3] {
		if err := c.DeleteServer(ctxT(t), id); err != nil {
			t.Fatal(err)
		}
	}
	if q, _ := c.Quota(ctxT(t), "p1"); q.Usage != (api.QuotaValues{Instances: 7, Cores: 7, RAM: 3584}) {
		t.Fatalf("after three deletes: %+v", q.Usage)
	}
	if len(byCell[cell2]) > 0 {
		c2.Stop()
		testkit.WaitFor(t, "cell2 down", 15*time.Second, func() bool { return !dp.Registry.Up(cell2) })
	}
	for i := 0; i < 3; i++ { // the project has servers in the down cell: still creates, up to the limit
		if _, err := c.CreateServer(ctxT(t), api.ServerCreateSpec{Name: fmt.Sprintf("more%d", i), FlavorRef: "1", ProjectID: "p1", UserID: "u"}); err != nil {
			t.Fatalf("create with a cell down: %v", err)
		}
	}
	if _, err := c.CreateServer(ctxT(t), api.ServerCreateSpec{Name: "over", FlavorRef: "1", ProjectID: "p1", UserID: "u"}); client.CodeOf(err) != api.CodeQuotaExceeded {
		t.Fatalf("the 11th server: %v, want quota_exceeded", err)
	}
	v, err := c.VerifyQuotas(ctxT(t), false)
	if err != nil || len(v.Drift) != 0 || v.Projects != 1 {
		t.Fatalf("verify: %+v (%v), want one project without drift", v, err)
	}
	// Once every cell is up again, the leader's reconciliation compares the usage with what
	// the cells hold: no drift.
	if len(byCell[cell2]) > 0 {
		c2.Restart(t)
		testkit.WaitFor(t, "cell2 up", 15*time.Second, func() bool { return dp.Registry.Up(cell2) })
	}
	testkit.WaitFor(t, "reconciliation judging p1", 20*time.Second, func() bool { // gossip on a busy machine may suspect a cell
		rep, _, err := dp.Proxy.ReconcileQuotas(ctxT(t), "", 10, false)
		if err == nil && len(rep.Drift)+len(rep.Busy) > 0 {
			t.Fatalf("reconciliation found drift: %+v", rep)
		}
		return err == nil && len(rep.Checked) == 1 && rep.Checked[0] == "p1"
	})
}
