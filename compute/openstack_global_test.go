package compute_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/api"
)

// projectLookup serves the cloud behind a reverse proxy that also answers the one identity
// call `openstack quota` makes: OSC resolves a project name through the identity API of the
// auth endpoint (GET <endpoint>/projects/{name}), and with admin_token auth that endpoint is
// the compute API, which has no projects (cellmap's projects are the ids its tokens are scoped
// to). The proxy answers a known project id as Keystone would, every other request is
// cellmap's own answer.
func projectLookup(t *testing.T, cl *cloud, projects ...string) string {
	t.Helper()
	target, err := url.Parse(cl.dp.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	known := map[string]bool{}
	for _, p := range projects {
		known[p] = true
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/compute/v2.1/projects")
		if !ok {
			proxy.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		id := strings.TrimPrefix(rest, "/")
		if id == "" { // the lookup by name, after a miss by id
			id = r.URL.Query().Get("name")
		}
		project := map[string]any{"id": id, "name": id, "domain_id": "default", "enabled": true}
		switch {
		case !known[id] && rest == "":
			json.NewEncoder(w).Encode(map[string]any{"projects": []any{}})
		case !known[id]:
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": 404, "title": "Not Found", "message": "Could not find project: " + id + "."}})
		case rest == "":
			json.NewEncoder(w).Encode(map[string]any{"projects": []any{project}})
		default:
			json.NewEncoder(w).Encode(map[string]any{"project": project})
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestOpenStackClientGlobal drives the real `openstack` client through quotas, server groups,
// aggregates and availability zones. Roles: `quota set` is for operators and admins (the
// project's service token is refused), `quota list --detail` for the project's reader;
// `server group create` for the project's service token (its reader is refused); `aggregate
// create` and `aggregate add host` for operators and admins (the project is refused);
// `availability zone list --compute` for anyone of the project. A server created with
// `--hint group=G --availability-zone az1 --wait` lands on az1's only host and shows the zone
// and (2.71) its group; a second member has no host left in az1 (anti-affinity) and ends in
// ERROR with Nova's no valid host; the third create is over the project's instances quota
// and is refused with Nova's 403.
func TestOpenStackClientGlobal(t *testing.T) {
	cl := startCloud(t)
	if _, err := cl.dp.Client.CreateImage(ctxT(t), api.Image{ID: "8c1a9e32-7e2f-4b8e-9d50-3c9d7c1e0a11", Name: "cirros",
		DiskFormat: "qcow2", ContainerFormat: "bare"}); err != nil {
		t.Fatal(err)
	}
	osc := newOSClientAt(t, projectLookup(t, cl, "p1"), map[string]string{"demo": cl.p1, "demo-reader": cl.p1Reader, "operator": cl.operator, "admin": cl.admin})

	// Quotas.
	osc.refused("403", "demo", "quota", "set", "--instances", "2", "p1")
	if out, err := osc.run("operator", "quota", "set", "--instances", "2", "p1"); err != nil {
		t.Fatalf("quota set: %v\n%s", err, out)
	}
	var quotas []map[string]any
	osc.json(&quotas, "demo-reader", "quota", "list", "--compute", "--detail", "--project", "p1")
	if q := byColumn(quotas, "Resource")["instances"]; q == nil || q["Limit"] != float64(2) || q["In Use"] != float64(0) {
		t.Fatalf("quota list --detail %v", quotas)
	}

	// A server group and a zone of one host.
	osc.refused("403", "demo-reader", "server", "group", "create", "--policy", "anti-affinity", "spread")
	var group map[string]any
	osc.json(&group, "demo", "server", "group", "create", "--policy", "anti-affinity", "spread")
	gid, _ := group["id"].(string)
	if group["policy"] != "anti-affinity" || group["project_id"] != "p1" || gid == "" {
		t.Fatalf("server group create %v", group)
	}
	osc.refused("403", "demo", "aggregate", "create", "--zone", "az1", "rack1")
	var agg map[string]any
	osc.json(&agg, "operator", "aggregate", "create", "--zone", "az1", "rack1")
	if agg["availability_zone"] != "az1" || agg["name"] != "rack1" {
		t.Fatalf("aggregate create %v", agg)
	}
	osc.refused("403", "demo", "aggregate", "add", "host", "rack1", "h1")
	osc.json(&agg, "admin", "aggregate", "add", "host", "rack1", "h1")
	if hosts, _ := agg["hosts"].([]any); len(hosts) != 1 || hosts[0] != "h1" {
		t.Fatalf("aggregate add host %v", agg)
	}
	var zones []map[string]any
	osc.json(&zones, "demo", "availability", "zone", "list", "--compute")
	if z := byColumn(zones, "Zone Name"); len(z) != 2 || z["az1"]["Zone Status"] != "available" || z["nova"]["Zone Status"] != "available" {
		t.Fatalf("availability zone list %v", zones)
	}

	// Creates into the group and the zone.
	create := func(name string) []string {
		return []string{"server", "create", "--flavor", "m1.tiny", "--image", "cirros", "--availability-zone", "az1", "--hint", "group=" + gid, "--wait", name}
	}
	var vm1 map[string]any
	osc.json(&vm1, "demo", create("vm1")...)
	if vm1["status"] != "ACTIVE" || vm1["OS-EXT-AZ:availability_zone"] != "az1" {
		t.Fatalf("server create in az1 %v", vm1)
	}
	var show map[string]any
	osc.json(&show, "admin", "--os-compute-api-version", "2.71", "server", "show", vm1["id"].(string))
	if groups, _ := show["server_groups"].([]any); show["OS-EXT-SRV-ATTR:host"] != "h1" || len(groups) != 1 || groups[0] != gid {
		t.Fatalf("server show at 2.71 %v", show)
	}
	// OSC 6.0 reports the failed build and exits 0 (a bare SystemExit): the server says why.
	if out, _ := osc.run("demo", create("vm2")...); !strings.Contains(out, "Error creating server") {
		t.Fatalf("a second anti-affine member in a zone of one host: want an error\n%s", out)
	}
	var vm2 map[string]any
	osc.json(&vm2, "demo", "server", "show", "vm2")
	if fault, _ := vm2["fault"].(map[string]any); vm2["status"] != "ERROR" || fault["message"] != "No valid host was found. There are not enough hosts available." {
		t.Fatalf("the second member %v", vm2)
	}
	osc.json(&group, "demo-reader", "server", "group", "show", gid)
	if members, _ := group["members"].([]any); len(members) != 2 {
		t.Fatalf("server group show %v", group)
	}
	out, err := osc.run("demo", create("vm3")...)
	if err == nil || !strings.Contains(out, "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances") || !strings.Contains(out, "HTTP 403") {
		t.Fatalf("a create over the quota: want Nova's 403, got %v\n%s", err, out)
	}
}
