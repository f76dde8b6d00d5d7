package cellproxy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/node"
)

// leaderless is a node that has lost its leader: linearizable reads and writes fail with
// node.ErrNoLeader, its local state is still readable.
type leaderless struct{ cellproxy.Store }

func (leaderless) Apply(context.Context, fsm.Command) (*fsm.Result, error) {
	return nil, node.ErrNoLeader
}

func (l leaderless) Read(ctx context.Context, c node.Consistency, fn func(r *fsm.Reader) error) (node.ReadInfo, error) {
	if _, ok := c.(node.Linearizable); ok {
		return node.ReadInfo{}, node.ErrNoLeader
	}
	return l.Store.Read(ctx, c, fn)
}

// TestDeleteInDownCellWithoutLeader: a delete of a server whose cell is down is refused with
// cell_down even by a node that has no leader at that moment (the chaos harness saw
// no_leader there under load): the cell's state is known locally, and the refusal changes
// nothing wherever the mapping really is. A server in a live cell still needs the leader.
func TestDeleteInDownCellWithoutLeader(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	c := dp.Client
	c1 := dp.AddCell(t, "cell1", cell1, hosts)
	dp.AddCell(t, "cell2", cell2, hosts)
	addFlavor(t, c, "1", 1, 512)
	byCell := map[string]string{}
	for i := 0; len(byCell) < 2 && i < 20; i++ {
		s := createAndWait(t, c, "vm", "p1", "1")
		byCell[s.CellUUID] = s.ID
	}
	if len(byCell) < 2 {
		t.Fatalf("servers in %d cells, want both", len(byCell))
	}
	c1.Stop()
	testkit.WaitFor(t, "cell1 down", 15*time.Second, func() bool { return !dp.Registry.Up(cell1) })

	p, err := cellproxy.New(cellproxy.DefaultConfig(), leaderless{dp.Node.Node}, dp.Registry)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteServer(ctxT(t), byCell[cell1]); !errors.Is(err, cellproxy.ErrCellDown) {
		t.Fatalf("delete in the down cell without a leader: %v, want cell down", err)
	}
	if err := p.DeleteServer(ctxT(t), byCell[cell2]); !errors.Is(err, node.ErrNoLeader) {
		t.Fatalf("delete in a live cell without a leader: %v, want no leader", err)
	}
}
