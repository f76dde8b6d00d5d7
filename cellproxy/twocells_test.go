package cellproxy_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestRescheduleNeverBuildsInTwoCells: a create whose answer was lost may have been built.
// While the cell that may hold it is down, the rescheduler must not build the server in
// another cell; once that cell is back it finds the server there.
func TestRescheduleNeverBuildsInTwoCells(t *testing.T) {
	dp := testcluster.StartDataPlane(t, &testcluster.DataPlaneOptions{Proxy: func(c *cellproxy.Config) {
		c.BuildRetryAfter = time.Millisecond // every build request is stale at once
	}})
	c := dp.Client
	cell1c := dp.AddCell(t, "cell1", cell1, "h1:64:65536:1000") // the emptiest: tried first
	cell2c := dp.AddCell(t, "cell2", cell2, hosts)
	addFlavor(t, c, "1", 1, 512)

	// cell1 builds the server but the answer is lost, and it cannot be asked afterwards.
	lose := cell1c.LoseAnswers(http.MethodPost)
	failGets := cell1c.FailRequests(http.MethodGet, "/v1/instances/")
	s, err := c.CreateServer(ctxT(t), api.ServerCreateSpec{Name: "vm", FlavorRef: "1", ProjectID: "p1", UserID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the scheduler to give up", 15*time.Second, func() bool { return dp.Proxy.Scheduling() == 0 })
	lose()
	failGets()
	c1 := client.New(cell1c.Addr, nil)
	defer c1.Close()
	if _, err := c1.Do(ctxT(t), http.MethodGet, "/v1/instances/"+s.ID, nil, nil, nil); err != nil {
		t.Fatalf("cell1 did not build the server whose answer it lost: %v", err)
	}

	cell1c.Stop()
	testkit.WaitFor(t, "cell1 down", 15*time.Second, func() bool { return !dp.Registry.Up(cell1) })
	dp.Proxy.RescheduleStale(context.Background())
	testkit.WaitFor(t, "the reschedule attempt to end", 15*time.Second, func() bool { return dp.Proxy.Scheduling() == 0 })
	cc := client.New(cell2c.Addr, nil)
	defer cc.Close()
	if _, err := cc.Do(ctxT(t), http.MethodGet, "/v1/instances/"+s.ID, nil, nil, nil); !client.IsNotFound(err) {
		t.Fatalf("the server was built in cell2 while cell1, which may hold it, was down (GET: %v)", err)
	}

	cell1c.Restart(t)
	testkit.WaitFor(t, "cell1 up", 15*time.Second, func() bool { return dp.Registry.Up(cell1) })
	var got *api.Server
	// A show may answer UNKNOWN for a moment: a call on a connection pooled before the restart
	// can fail and put cell1 in its failure cooldown.
	testkit.WaitFor(t, "the server found in a cell", 15*time.Second, func() bool {
		dp.Proxy.RescheduleStale(context.Background())
		got, err = c.Server(ctxT(t), s.ID)
		return err == nil && got.Status != api.StatusBuild && got.Status != api.StatusUnknown
	})
	if got.Status != api.StatusActive || got.CellUUID != cell1 {
		t.Fatalf("got %s in %s, want ACTIVE in cell1", got.Status, got.CellUUID)
	}
}
