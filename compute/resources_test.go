package compute_test

import (
	"net/http"
	"reflect"
	"testing"
)

// TestFlavors: list, detail and show as Nova shapes them by microversion, os-extra_specs, and
// create and delete for operators and admins (Nova's admin-only os-flavor-manage): a service
// token is refused. Readers may read.
func TestFlavors(t *testing.T) {
	cl := startCloud(t)
	list := cl.call(t, "GET", "/v2.1/flavors", cl.p1Reader, "2.1", "")
	fs := list.list("flavors")
	if len(fs) != 2 || fs[0]["id"] != "1" || !reflect.DeepEqual(keys(fs[0]), []string{"id", "links", "name"}) {
		t.Fatalf("list %s", list.raw)
	}
	d21 := cl.call(t, "GET", "/v2.1/flavors/detail", cl.p1, "2.1", "").list("flavors")
	if d21[0]["swap"] != "" || d21[0]["ram"] != float64(512) || d21[0]["os-flavor-access:is_public"] != true {
		t.Fatalf("2.1 detail %v", d21[0])
	}
	if _, ok := d21[0]["extra_specs"]; ok {
		t.Fatal("extra_specs shown before 2.61")
	}
	d75 := cl.call(t, "GET", "/v2.1/flavors/1", cl.p1, "2.75", "").object("flavor")
	specs, _ := d75["extra_specs"].(map[string]any)
	if d75["swap"] != float64(0) || specs["hw:cpu_policy"] != "shared" {
		t.Fatalf("2.75 show %v", d75)
	}
	page := cl.call(t, "GET", "/v2.1/flavors?limit=1", cl.p1, "2.69", "")
	if l := page.list("flavors_links"); len(page.list("flavors")) != 1 || len(l) != 1 ||
		l[0]["href"] != cl.dp.URL+"/compute/v2.1/flavors?limit=1&marker=1" {
		t.Fatalf("flavor page %s", page.raw)
	}
	if l := cl.call(t, "GET", "/v2.1/flavors?minRam=1024", cl.p1, "2.69", "").list("flavors"); len(l) != 1 || l[0]["id"] != "2" {
		t.Fatalf("minRam %v", l)
	}
	wantFault(t, cl.call(t, "GET", "/v2.1/flavors/nope", cl.p1, "2.69", ""), 404, "itemNotFound", "Flavor nope could not be found.")
	es := cl.call(t, "GET", "/v2.1/flavors/1/os-extra_specs", cl.p1, "2.69", "").object("extra_specs")
	if es["hw:cpu_policy"] != "shared" {
		t.Fatalf("extra specs %v", es)
	}
	one := cl.call(t, "GET", "/v2.1/flavors/1/os-extra_specs/hw:cpu_policy", cl.p1, "2.69", "")
	if one.body["hw:cpu_policy"] != "shared" || len(one.body) != 1 {
		t.Fatalf("extra spec %s", one.raw)
	}
	wantFault(t, cl.call(t, "GET", "/v2.1/flavors/1/os-extra_specs/nope", cl.p1, "2.69", ""), 404, "itemNotFound", "has no extra specs with key nope")

	body := `{"flavor": {"name": "m1.large", "id": "3", "ram": 8192, "vcpus": 4, "disk": 80}}`
	wantFault(t, cl.call(t, "POST", "/v2.1/flavors", cl.p1, "2.69", body), http.StatusForbidden, "forbidden", "service")
	made := cl.call(t, "POST", "/v2.1/flavors", cl.operator, "2.69", body)
	want(t, made, 200)
	if f := made.object("flavor"); f["id"] != "3" || f["vcpus"] != float64(4) {
		t.Fatalf("create %s", made.raw)
	}
	wantFault(t, cl.call(t, "POST", "/v2.1/flavors", cl.admin, "2.69", body), 409, "conflictingRequest", "already exists")
	wantFault(t, cl.call(t, "POST", "/v2.1/flavors", cl.admin, "2.69", `{"flavor": {"name": "s", "ram": 1, "vcpus": 1, "disk": 1, "swap": 512}}`),
		400, "badRequest", "swap")
	auto := cl.call(t, "POST", "/v2.1/flavors", cl.admin, "2.69", `{"flavor": {"name": "auto", "ram": 64, "vcpus": 1, "disk": 1}}`)
	if id, _ := auto.object("flavor")["id"].(string); auto.status != 200 || len(id) != 36 {
		t.Fatalf("create without id: %s", auto.raw)
	}
	wantFault(t, cl.call(t, "DELETE", "/v2.1/flavors/3", cl.p1, "2.69", ""), http.StatusForbidden, "forbidden", "service")
	want(t, cl.call(t, "DELETE", "/v2.1/flavors/3", cl.operator, "2.69", ""), http.StatusAccepted)
	wantFault(t, cl.call(t, "DELETE", "/v2.1/flavors/3", cl.operator, "2.69", ""), 404, "itemNotFound", "Flavor 3 could not be found.")
}

// TestHostsZonesLimits: os-services, os-hypervisors (operator and admin) from the cells'
// conductors, os-availability-zone (readers; detail for operators) and limits with the
// project's usage (readers).
func TestHostsZonesLimits(t *testing.T) {
	cl := startCloud(t)
	cl.createServer(t, cl.p1, "a", "1")
	cl.createServer(t, cl.p1, "b", "2")

	services := cl.call(t, "GET", "/v2.1/os-services", cl.operator, "2.53", "").list("services")
	byHost := map[string]map[string]any{}
	conductors := 0
	for _, s := range services {
		if s["binary"] == "nova-conductor" {
			conductors++
			continue
		}
		byHost[s["host"].(string)] = s
	}
	if conductors != 2 || len(byHost) != 2 || byHost["h1"]["zone"] != "nova" || byHost["h1"]["state"] != "up" || len(byHost["h1"]["id"].(string)) != 36 {
		t.Fatalf("os-services %v", services)
	}
	if l := cl.call(t, "GET", "/v2.1/os-services?binary=nova-compute&host=h2", cl.admin, "2.1", "").list("services"); len(l) != 1 || l[0]["id"] == nil {
		t.Fatalf("filtered os-services %v", l)
	}

	hyps := cl.call(t, "GET", "/v2.1/os-hypervisors", cl.operator, "2.1", "").list("hypervisors")
	if len(hyps) != 2 || !reflect.DeepEqual(keys(hyps[0]), []string{"hypervisor_hostname", "id", "state", "status"}) {
		t.Fatalf("os-hypervisors %v", hyps)
	}
	detail := cl.call(t, "GET", "/v2.1/os-hypervisors/detail", cl.operator, "2.1", "").list("hypervisors")
	used := 0.0
	for _, h := range detail {
		used += h["vcpus_used"].(float64)
		if h["vcpus"] != float64(64) {
			t.Fatalf("hypervisor %v", h)
		}
	}
	if used != 3 {
		t.Fatalf("vcpus_used %v, want 3 (the two servers)", used)
	}
	if d := cl.call(t, "GET", "/v2.1/os-hypervisors/detail", cl.operator, "2.88", "").list("hypervisors"); d[0]["vcpus"] != nil {
		t.Fatalf("2.88 still shows sizes: %v", d[0])
	}
	id := cl.call(t, "GET", "/v2.1/os-hypervisors", cl.operator, "2.53", "").list("hypervisors")[0]["id"].(string)
	if h := cl.call(t, "GET", "/v2.1/os-hypervisors/"+id, cl.operator, "2.53", "").object("hypervisor"); h["id"] != id {
		t.Fatalf("show hypervisor %v", h)
	}
	wantFault(t, cl.call(t, "GET", "/v2.1/os-hypervisors/nope", cl.operator, "2.53", ""), 404, "itemNotFound", "nope")

	zones := cl.call(t, "GET", "/v2.1/os-availability-zone", cl.p1Reader, "2.69", "").list("availabilityZoneInfo")
	if len(zones) != 1 || zones[0]["zoneName"] != "nova" || zones[0]["zoneState"].(map[string]any)["available"] != true {
		t.Fatalf("zones %v", zones)
	}
	wantFault(t, cl.call(t, "GET", "/v2.1/os-availability-zone/detail", cl.p1, "2.69", ""), http.StatusForbidden, "forbidden", "service")
	if z := cl.call(t, "GET", "/v2.1/os-availability-zone/detail", cl.operator, "2.69", "").list("availabilityZoneInfo"); len(z) != 2 {
		t.Fatalf("zone detail %v", z)
	}

	abs := cl.call(t, "GET", "/v2.1/limits", cl.p1Reader, "2.1", "").object("limits")["absolute"].(map[string]any)
	if abs["totalInstancesUsed"] != float64(2) || abs["totalCoresUsed"] != float64(3) || abs["totalRAMUsed"] != float64(2560) ||
		abs["maxTotalInstances"] != float64(-1) || abs["maxServerMeta"] != float64(128) || abs["maxPersonality"] == nil {
		t.Fatalf("2.1 limits %v", abs)
	}
	abs57 := cl.call(t, "GET", "/v2.1/limits", cl.p1, "2.57", "").object("limits")["absolute"].(map[string]any)
	for _, gone := range []string{"maxPersonality", "maxImageMeta", "maxSecurityGroups", "totalFloatingIpsUsed"} {
		if _, ok := abs57[gone]; ok {
			t.Fatalf("2.57 limits still have %s: %v", gone, abs57)
		}
	}
	if other := cl.call(t, "GET", "/v2.1/limits", cl.p2, "2.57", "").object("limits")["absolute"].(map[string]any); other["totalInstancesUsed"] != float64(0) {
		t.Fatalf("p2 limits %v", other)
	}
	if adm := cl.call(t, "GET", "/v2.1/limits?tenant_id=p1", cl.admin, "2.57", "").object("limits")["absolute"].(map[string]any); adm["totalInstancesUsed"] != float64(2) {
		t.Fatalf("admin tenant_id limits %v", adm)
	}
}
