package cellproxy_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/node"
)

// TestFailedCellDeleteLeavesNoZombie: a delete whose cell answers 500 is accepted and queued
// (the mapping is queued for delete, show and delete answer 404), the server is hidden from
// listings, and the leader retries the cell's delete, with backoff, until the cell confirms it.
func TestFailedCellDeleteLeavesNoZombie(t *testing.T) {
	dp := testcluster.StartDataPlane(t, &testcluster.DataPlaneOptions{Proxy: func(c *cellproxy.Config) {
		c.DeleteRetryInterval = 100 * time.Millisecond
	}})
	c := dp.Client
	cond := dp.AddCell(t, "cell1", cell1, hosts)
	addFlavor(t, c, "1", 1, 512)
	s := createAndWait(t, c, "vm", "p1", "1")
	keep := createAndWait(t, c, "keep", "p1", "1")

	restore := cond.FailRequests(http.MethodDelete, "/v1/instances/")
	if err := c.DeleteServer(ctxT(t), s.ID); err != nil {
		t.Fatalf("a delete the cell failed must be accepted (the leader retries it): %v", err)
	}
	if cond.FailedRequests() == 0 {
		t.Fatal("the cell was never asked to delete")
	}
	if _, err := c.Server(ctxT(t), s.ID); !client.IsNotFound(err) {
		t.Fatalf("show of a server queued for delete: %v, want 404", err)
	}
	if m, _, merr := c.InstanceMapping(ctxT(t), s.ID); merr != nil || !m.QueuedForDelete {
		t.Fatalf("after the failed cell delete the mapping is %+v (%v), want queued for delete", m, merr)
	}
	list, err := c.Servers(ctxT(t), api.ServerQuery{AllTenants: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range list.Servers {
		if l.ID == s.ID {
			t.Fatalf("a server queued for delete is listed as %s by its cell", l.Status)
		}
	}
	if len(list.Servers) != 1 || list.Servers[0].ID != keep.ID {
		t.Fatalf("listed %v, want only %s", ids(list.Servers), keep.ID)
	}

	// The leader retries while the cell keeps failing, then the cell recovers and confirms.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); dp.Node.Node.RunAsLeader(ctx, dp.Proxy.RetryDeletesLoop) }()
	defer func() { cancel(); <-done }()
	testkit.WaitFor(t, "the leader to retry the failed delete", 15*time.Second, func() bool { return cond.FailedRequests() >= 2 })
	restore()
	cc := client.New(cond.Addr, nil)
	defer cc.Close()
	testkit.WaitFor(t, "the cell to delete the server", 15*time.Second, func() bool {
		_, err := cc.Do(ctxT(t), http.MethodGet, "/v1/instances/"+s.ID, nil, nil, nil)
		return client.IsNotFound(err)
	})
	testkit.WaitFor(t, "the pending delete to be confirmed", 15*time.Second, func() bool {
		m, _, err := c.InstanceMapping(ctxT(t), s.ID)
		return err == nil && m.QueuedForDelete && pendingCount(t, dp) == 0
	})
}

// pendingCount is the number of deletes the cells have not confirmed, read from the state.
func pendingCount(t *testing.T, dp *testcluster.DataPlane) int {
	var n int
	_, err := dp.Node.Node.Read(ctxT(t), node.Linearizable{}, func(r *fsm.Reader) error {
		ps, err := r.PendingDeletes(0)
		n = len(ps)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
