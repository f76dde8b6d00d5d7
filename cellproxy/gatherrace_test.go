package cellproxy_test

import (
	"slices"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/gossip"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestListingWithUnreachableAndDownCells: a listing asks the up cells in parallel and notes the
// cells that are down; one cell (a) is up by gossip but its conductor does not answer, the
// next one (b) is down. The goroutine of a and the loop that notes b both append to the
// listing's down cells: the loop did so without the lock the goroutines take (the race
// detector reports it; a lost entry would drop a down cell from down_cells). Both cells must
// be named in every listing. Role: none (the proxy below the API).
func TestListingWithUnreachableAndDownCells(t *testing.T) {
	const cellA, cellB = "a0000000-0000-4000-8000-00000000000a", "b0000000-0000-4000-8000-00000000000b"
	tn := testcluster.StartNode(t, nil)
	dead := testkit.FreeAddr(t) // nothing listens there
	for _, c := range []api.CellCreate{
		{UUID: cellA, Name: "a", TransportURL: "http://" + dead + "/", DatabaseConnection: "mysql://db/a"},
		{UUID: cellB, Name: "b", TransportURL: "http://127.0.0.1:1/", DatabaseConnection: "mysql://db/b"},
	} {
		if _, err := tn.Client.CreateCell(ctxT(t), c); err != nil {
			t.Fatal(err)
		}
	}
	reg := cellproxy.NewRegistry(time.Millisecond, nil)
	p, err := cellproxy.New(cellproxy.DefaultConfig(), tn.Node, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 10 {
		// a's conductor is alive by gossip (again: the last listing marked it failed).
		reg.MemberJoin(gossip.Member{Name: "conductor-a", Meta: api.GossipMeta{Role: api.RoleConductor, CellUUID: cellA, HTTPAddr: "http://" + dead}, Alive: true})
		if !reg.Up(cellA) || reg.Up(cellB) {
			t.Fatalf("round %d: a up %v, b up %v; want a up, b down", i, reg.Up(cellA), reg.Up(cellB))
		}
		list, err := p.ListServers(ctxT(t), api.ServerQuery{AllTenants: true, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(slices.Values(list.DownCells)); !slices.Equal(got, []string{cellA, cellB}) {
			t.Fatalf("round %d: down cells %v, want %s and %s", i, got, cellA, cellB)
		}
	}
}
