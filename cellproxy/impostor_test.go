package cellproxy_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestGossipImpostorGetsNoTraffic: a member that gossips role=conductor and cell1's uuid from an
// address that is not cell1's mapped transport URL (and sorts before the genuine conductor)
// receives no request: creates land in cell1's real conductor, listings and shows come from
// it, and the impostor is listed as an unmapped conductor.
func TestGossipImpostorGetsNoTraffic(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	c := dp.Client
	dp.AddCell(t, "cell1", cell1, hosts)
	addFlavor(t, c, "1", 1, 512)

	impostor := startFakeConductor(t, dp, cell1, "a-impostor", nil)
	testkit.WaitFor(t, "the impostor in the registry", 15*time.Second, func() bool {
		for _, cd := range dp.Registry.Conductors() {
			if cd.Name == "a-impostor" && cd.Alive {
				return true
			}
		}
		return false
	})

	for i := 0; i < 4; i++ {
		s := createAndWait(t, c, fmt.Sprintf("vm%d", i), "p1", "1")
		if s.Status != api.StatusActive || s.CellUUID != cell1 || s.Flavor == nil {
			t.Fatalf("server %d: %+v, want ACTIVE in cell1 with its flavor from the real conductor", i, s)
		}
	}
	list, err := c.Servers(ctxT(t), api.ServerQuery{AllTenants: true})
	if err != nil || len(list.Servers) != 4 {
		t.Fatalf("listed %d servers (%v), want 4", len(list.Servers), err)
	}
	if n := impostor.requests.Load(); n != 0 {
		t.Fatalf("a member posing as cell1's conductor from an unmapped address received %d requests, want 0", n)
	}
	cs, err := c.Conductors(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, cd := range cs {
		if cd.Name == "a-impostor" && cd.Mapped {
			t.Fatalf("the impostor is listed as mapped: %+v", cd)
		}
	}
}
