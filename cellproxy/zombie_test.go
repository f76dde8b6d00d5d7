package cellproxy_test

import (
	"net/http"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

// TestFailedCellDeleteLeavesNoZombie: a delete whose cell answers 500 is queued (the mapping is
// queued for delete, show and delete answer 404), so the server must not stay listed ACTIVE by
// its cell either.
func TestFailedCellDeleteLeavesNoZombie(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	c := dp.Client
	cond := dp.AddCell(t, "cell1", cell1, hosts)
	addFlavor(t, c, "1", 1, 512)
	s := createAndWait(t, c, "vm", "p1", "1")
	keep := createAndWait(t, c, "keep", "p1", "1")

	restore := cond.FailRequests(http.MethodDelete)
	err := c.DeleteServer(ctxT(t), s.ID)
	restore()
	if cond.FailedRequests() == 0 {
		t.Fatalf("the cell was never asked to delete (delete answered %v)", err)
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
}
