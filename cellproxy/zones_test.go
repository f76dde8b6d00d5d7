package cellproxy_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

// TestAvailabilityZones: an aggregate with availability_zone metadata makes a zone across
// cells; creates naming it land only on its hosts, creates naming the default zone never on
// them, an unknown zone is refused as Nova refuses it (400), a zone without hosts buries the
// server in cell0, and a host cannot be in two zones. Roles: aggregate changes need operator (a
// service token is refused), listings reader.
func TestAvailabilityZones(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	c := dp.Client
	dp.AddCell(t, "cell1", cell1, "a1:16:32768:500,a2:16:32768:500")
	dp.AddCell(t, "cell2", cell2, "b1:16:32768:500,b2:16:32768:500")
	addFlavor(t, c, "1", 1, 512)
	svc, err := c.CreateToken(ctxT(t), api.TokenCreate{Role: "service", Description: "api tier"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WithToken(svc.Secret).CreateAggregate(ctxT(t), "rack-b", "z1"); client.CodeOf(err) != api.CodeForbidden {
		t.Fatalf("a service token created an aggregate: %v", err)
	}
	rack, err := c.CreateAggregate(ctxT(t), "rack-b", "z1")
	if err != nil {
		t.Fatal(err)
	}
	if rack, err = c.AddAggregateHost(ctxT(t), rack.ID, "b1"); err != nil || !slices.Equal(rack.Hosts, []string{"b1"}) {
		t.Fatalf("add host: %+v %v", rack, err)
	}
	other, err := c.CreateAggregate(ctxT(t), "rack-z2", "z2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddAggregateHost(ctxT(t), other.ID, "b1"); client.CodeOf(err) != "zone_conflict" {
		t.Fatalf("a host in two zones: %v", err)
	}
	zones, err := c.WithToken(svc.Secret).AvailabilityZones(ctxT(t))
	want := []api.AvailabilityZone{{Name: "nova", Hosts: []string{"a1", "a2", "b2"}}, {Name: "z1", Hosts: []string{"b1"}}, {Name: "z2", Hosts: []string{}}}
	if err != nil || fmt.Sprint(zones) != fmt.Sprint(want) {
		t.Fatalf("zones %v (%v), want %v", zones, err, want)
	}

	create := func(name, zone string) api.Server {
		t.Helper()
		s, err := c.CreateServer(ctxT(t), api.ServerCreateSpec{Name: name, FlavorRef: "1", ProjectID: "p1", UserID: "u", AvailabilityZone: zone})
		if err != nil {
			t.Fatalf("create in %s: %v", zone, err)
		}
		return waitBuilt(t, c, s.ID)
	}
	// Four servers placed in each zone. A create can also end in cell0 when gossip on a busy
	// machine briefly suspects the cells: that breaks no zone, so it is counted apart.
	for zone, placed := range map[string]int{"z1": 0, "nova": 0} {
		for i := 0; placed < 4 && i < 20; i++ {
			s := create(fmt.Sprintf("%s-%d", zone, i), zone)
			switch {
			case s.Status == api.StatusError && s.CellUUID == api.Cell0UUID:
				continue
			case s.Status != api.StatusActive, zone == "z1" && (s.Host != "b1" || s.CellUUID != cell2), zone == "nova" && s.Host == "b1":
				t.Fatalf("a server of %s: %s on %s in %s", zone, s.Status, s.Host, s.CellUUID)
			}
			placed++
		}
		if placed < 4 {
			t.Fatalf("only %d servers of %s placed in 20 creates", placed, zone)
		}
	}
	if s := create("empty-zone", "z2"); s.Status != api.StatusError || s.CellUUID != api.Cell0UUID {
		t.Fatalf("a server of a zone without hosts: %s in %s, want ERROR in cell0", s.Status, s.CellUUID)
	}
	_, err = c.CreateServer(ctxT(t), api.ServerCreateSpec{Name: "x", FlavorRef: "1", ProjectID: "p1", UserID: "u", AvailabilityZone: "nowhere"})
	if client.CodeOf(err) != api.CodeInvalid {
		t.Fatalf("an unknown zone: %v, want 400 invalid", err)
	}
	if err := c.DeleteAggregate(ctxT(t), rack.ID); client.CodeOf(err) != api.CodeHostsMapped {
		t.Fatalf("deleting an aggregate with hosts: %v", err)
	}
	if _, err := c.RemoveAggregateHost(ctxT(t), rack.ID, "b1"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAggregate(ctxT(t), rack.ID); err != nil {
		t.Fatal(err)
	}
}
