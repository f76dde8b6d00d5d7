package cellproxy_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/ops"
)

// landingGuard is the data plane's delete_cell guard with a server landing in the cell right
// after the cell said it had no live instance, before the delete is applied.
type landingGuard struct {
	ops.Guard
	land func()
}

func (g *landingGuard) BeforeDeleteCell(ctx context.Context, cell string) (uint64, []string, error) {
	checked, hosts, err := g.Guard.BeforeDeleteCell(ctx, cell)
	g.land()
	return checked, hosts, err
}

// TestDeleteCellRacingASchedule: a forced delete_cell whose cell had no live instance when it
// asked must still be refused when a server lands in the cell between that check and the
// delete (the delete's precondition covers it), and the server's mapping stays.
func TestDeleteCellRacingASchedule(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	c := dp.Client
	dp.AddCell(t, "cell1", cell1, hosts)
	addFlavor(t, c, "1", 1, 512)
	gone := createAndWait(t, c, "gone", "p1", "1")
	if err := c.DeleteServer(ctxT(t), gone.ID); err != nil { // a mapping, no live instance
		t.Fatal(err)
	}
	var landed string
	g := &landingGuard{Guard: dp.Proxy, land: func() { landed = createAndWait(t, c, "late", "p1", "1").ID }}
	res, err := ops.NewUnmapper(dp.Node.Node, g).DeleteCell(ctxT(t), cell1, true)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res.Err, fsm.ErrInstancesExist) {
		t.Fatalf("delete_cell --force with a server landed after its check: got %v, want instances exist", res.Err)
	}
	if m, _, err := c.InstanceMapping(ctxT(t), landed); err != nil || m.CellUUID == nil || *m.CellUUID != cell1 {
		t.Fatalf("the landed server's mapping: %+v (%v)", m, err)
	}
}
