package compute_test

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestDownCell: with cell2's conductor stopped, from 2.69 a list without paging, sorting or
// filters shows cell2's servers as Nova's minimal records (list: id, status, links; detail:
// id, status, tenant_id, created, links) and show answers the request spec's keys; below 2.69,
// and with a filter or a limit, they are left out, and show is Nova's 500. Delete in the down
// cell is a 500 that changes nothing. os-services shows the cell's compute hosts UNKNOWN from
// 2.69 (left out before); os-hypervisors reports them down. Readers may list and show.
func TestDownCell(t *testing.T) {
	cl := startCloud(t)
	// Fill cell1's only host, so the next server lands in cell2... cells are chosen by free
	// capacity: create until one server is in each cell.
	inCell := map[string]string{}
	for i := 0; i < 8 && len(inCell) < 2; i++ {
		id := cl.createServer(t, cl.p1, "vm", "2")
		host := cl.call(t, "GET", "/v2.1/servers/"+id, cl.admin, "2.69", "").object("server")["OS-EXT-SRV-ATTR:host"].(string)
		if inCell[host] == "" {
			inCell[host] = id
		}
	}
	up, down := inCell["h1"], inCell["h2"]
	if up == "" || down == "" {
		t.Fatalf("servers did not land in both cells: %v", inCell)
	}
	cl.c2.Stop()
	testkit.WaitFor(t, "cell2 down", 15*time.Second, func() bool { return !cl.dp.Registry.Up(cell2) })

	find := func(a answer, id string) map[string]any {
		for _, s := range a.list("servers") {
			if s["id"] == id {
				return s
			}
		}
		return nil
	}
	detail := cl.call(t, "GET", "/v2.1/servers/detail", cl.p1Reader, "2.69", "")
	want(t, detail, 200)
	if m := find(detail, down); m == nil || m["status"] != "UNKNOWN" ||
		!reflect.DeepEqual(keys(m), []string{"created", "id", "links", "status", "tenant_id"}) {
		t.Fatalf("2.69 detail: minimal record %v in %s", m, detail.raw)
	}
	if m := find(detail, up); m == nil || m["status"] != "ACTIVE" {
		t.Fatalf("2.69 detail: the up cell's server %v", m)
	}
	basic := cl.call(t, "GET", "/v2.1/servers?all_tenants=1", cl.admin, "2.69", "")
	if m := find(basic, down); m == nil || !reflect.DeepEqual(keys(m), []string{"id", "links", "status"}) {
		t.Fatalf("2.69 list with all_tenants: %v in %s", m, basic.raw)
	}
	show := cl.call(t, "GET", "/v2.1/servers/"+down, cl.p1Reader, "2.69", "")
	want(t, show, 200)
	wantShow := []string{"OS-EXT-AZ:availability_zone", "OS-EXT-STS:power_state", "created", "flavor", "id", "image",
		"links", "status", "tenant_id", "user_id"}
	if s := show.object("server"); !reflect.DeepEqual(keys(s), wantShow) || s["status"] != "UNKNOWN" ||
		s["OS-EXT-AZ:availability_zone"] != "UNKNOWN" || s["OS-EXT-STS:power_state"] != float64(0) {
		t.Fatalf("2.69 show %s", show.raw)
	}
	if s := cl.call(t, "GET", "/v2.1/servers/"+down, cl.p1, "2.71", "").object("server"); s["server_groups"] == nil {
		t.Fatalf("2.71 show without server_groups: %v", s)
	}

	for _, tc := range []struct{ version, query string }{{"2.68", ""}, {"2.69", "?limit=10"}, {"2.69", "?name=vm"}, {"2.69", "?sort_key=display_name"}} {
		a := cl.call(t, "GET", "/v2.1/servers/detail"+tc.query, cl.p1, tc.version, "")
		if a.status != 200 || find(a, down) != nil || find(a, up) == nil {
			t.Fatalf("%s %s: the down cell's server must be left out: %s", tc.version, tc.query, a.raw)
		}
	}
	wantFault(t, cl.call(t, "GET", "/v2.1/servers/"+down, cl.p1, "2.68", ""), 500, "computeFault",
		"Cell "+cell2+" is not responding or returned an exception, hence instance info is not available.")
	wantFault(t, cl.call(t, "DELETE", "/v2.1/servers/"+down, cl.p1, "2.69", ""), 500, "computeFault", "is not responding")
	if s := cl.call(t, "GET", "/v2.1/servers/"+down, cl.p1, "2.69", ""); s.status != 200 {
		t.Fatalf("the refused delete changed the server: %s", s.raw)
	}
	// The project has servers in a down cell: its usage is counted at the API tier, so its
	// creates go on (issue 15; --block-creates-on-down-cell restores Nova's refusal).
	if c := cl.call(t, "POST", "/v2.1/servers", cl.p1, "2.69", `{"server": {"name": "x", "flavorRef": "1", "networks": "none"}}`); c.status != 202 {
		t.Fatalf("create of a project with servers in a down cell: %s", c.raw)
	}

	services := cl.call(t, "GET", "/v2.1/os-services", cl.operator, "2.69", "")
	var sawUnknown, sawUp bool
	for _, s := range services.list("services") {
		if s["host"] == "h2" {
			sawUnknown = s["status"] == "UNKNOWN" && reflect.DeepEqual(keys(s), []string{"binary", "host", "status"})
		}
		if s["host"] == "h1" {
			sawUp = s["state"] == "up" && s["status"] == "enabled" && s["binary"] == "nova-compute"
		}
	}
	if !sawUnknown || !sawUp {
		t.Fatalf("2.69 os-services %s", services.raw)
	}
	for _, s := range cl.call(t, "GET", "/v2.1/os-services", cl.operator, "2.68", "").list("services") {
		if s["host"] == "h2" {
			t.Fatalf("2.68 os-services lists the down cell's host: %v", s)
		}
	}
	hyp := cl.call(t, "GET", "/v2.1/os-hypervisors/detail", cl.admin, "2.53", "")
	states := map[string]any{}
	for _, h := range hyp.list("hypervisors") {
		states[h["hypervisor_hostname"].(string)] = h["state"]
	}
	if states["h1"] != "up" || states["h2"] != "down" {
		t.Fatalf("os-hypervisors %s", hyp.raw)
	}
	wantFault(t, cl.call(t, "GET", "/v2.1/os-hypervisors", cl.p1, "2.69", ""), http.StatusForbidden, "forbidden", "service")
}
