package compute_test

import (
	"net/http"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// waitBuilt waits until a server leaves BUILD and returns its admin view.
func (cl *cloud) waitBuilt(t *testing.T, id string) map[string]any {
	t.Helper()
	var srv map[string]any
	testkit.WaitFor(t, id+" built", 15*time.Second, func() bool {
		srv = cl.call(t, "GET", "/v2.1/servers/"+id, cl.admin, "2.71", "").object("server")
		return srv["status"] == "ACTIVE" || srv["status"] == "ERROR"
	})
	return srv
}

// createIn posts a server create body and returns the new server's id.
func (cl *cloud) createIn(t *testing.T, token, body string) string {
	t.Helper()
	a := cl.call(t, "POST", "/v2.1/servers", token, "2.71", body)
	want(t, a, http.StatusAccepted)
	id, _ := a.object("server")["id"].(string)
	return id
}

// TestServerGroups: os-server-groups by microversion (policies and metadata before 2.64,
// policy and rules from it; soft policies from 2.15; project_id and user_id from 2.13). A
// project's service token creates and deletes its groups, its reader only reads them (and is
// refused a create); another project is refused (403); all_projects is for operators and
// admins. A server created with the group hint joins the group, shows it at 2.71, and the
// group's anti-affinity keeps its members on distinct hosts (the third of three on two hosts
// fails with no valid host).
func TestServerGroups(t *testing.T) {
	cl := startCloud(t)

	old := cl.call(t, "POST", "/v2.1/os-server-groups", cl.p1, "2.1", `{"server_group": {"name": "g-old", "policies": ["affinity"]}}`)
	want(t, old, http.StatusOK)
	og := old.object("server_group")
	if !reflect.DeepEqual(keys(og), []string{"id", "members", "metadata", "name", "policies"}) || og["policies"].([]any)[0] != "affinity" {
		t.Fatalf("2.1 group %v", og)
	}
	wantFault(t, cl.call(t, "POST", "/v2.1/os-server-groups", cl.p1Reader, "2.64", `{"server_group": {"name": "no", "policy": "affinity"}}`),
		http.StatusForbidden, "forbidden", "")
	for _, bad := range []struct{ version, body, msg string }{
		{"2.14", `{"server_group": {"name": "s", "policies": ["soft-affinity"]}}`, "needs microversion 2.15"},
		{"2.15", `{"server_group": {"name": "s", "policies": ["affinity", "anti-affinity"]}}`, "exactly one policy"},
		{"2.15", `{"server_group": {"name": "s", "policy": "affinity"}}`, "need 2.64"},
		{"2.64", `{"server_group": {"name": "s", "policies": ["affinity"]}}`, "'policies' was unexpected"},
		{"2.64", `{"server_group": {"name": "s", "policy": "affinity", "rules": {"max_server_per_host": 2}}}`, "Only anti-affinity policy supports rules."},
		{"2.64", `{"server_group": {"name": "s", "policy": "anti-affinity", "rules": {"max_server_per_host": 0}}}`, "positive integer"},
		{"2.64", `{"server_group": {"name": "s", "policy": "anti-affinity", "rules": {"max": 1}}}`, "'max' was unexpected"},
		{"2.64", `{"server_group": {"name": "s", "policy": "best-effort"}}`, "is not one of the policies"},
		{"2.64", `{"server_group": {"name": " ", "policy": "affinity"}}`, "name must be 1 to 255 characters"},
	} {
		wantFault(t, cl.call(t, "POST", "/v2.1/os-server-groups", cl.p1, bad.version, bad.body), http.StatusBadRequest, "badRequest", bad.msg)
	}
	soft := cl.call(t, "POST", "/v2.1/os-server-groups", cl.p2, "2.15", `{"server_group": {"name": "soft", "policies": ["soft-anti-affinity"]}}`)
	want(t, soft, http.StatusOK)
	if sg := soft.object("server_group"); sg["project_id"] != "p2" || sg["user_id"] == nil {
		t.Fatalf("2.15 group %v", sg)
	}

	anti := cl.call(t, "POST", "/v2.1/os-server-groups", cl.p1, "2.64",
		`{"server_group": {"name": "spread", "policy": "anti-affinity", "rules": {"max_server_per_host": "1"}}}`)
	want(t, anti, http.StatusOK)
	g := anti.object("server_group")
	gid, _ := g["id"].(string)
	if g["policy"] != "anti-affinity" || g["rules"].(map[string]any)["max_server_per_host"] != float64(1) || g["project_id"] != "p1" {
		t.Fatalf("2.64 group %v", g)
	}

	// Three members on two hosts: two land apart, the third has no valid host.
	hint := `, "os:scheduler_hints": {"group": "` + gid + `"}}`
	var ids []string
	hosts := map[string]int{}
	errored := 0
	for _, name := range []string{"m1", "m2", "m3"} {
		id := cl.createIn(t, cl.p1, `{"server": {"name": "`+name+`", "flavorRef": "1", "networks": "none"}`+hint)
		srv := cl.waitBuilt(t, id)
		ids = append(ids, id)
		if srv["status"] == "ERROR" {
			errored++
			continue
		}
		hosts[srv["OS-EXT-SRV-ATTR:host"].(string)]++
		if gs := srv["server_groups"].([]any); len(gs) != 1 || gs[0] != gid {
			t.Fatalf("2.71 server_groups %v", srv["server_groups"])
		}
	}
	if len(hosts) != 2 || hosts["h1"] != 1 || hosts["h2"] != 1 || errored != 1 {
		t.Fatalf("anti-affinity placed %v with %d in ERROR", hosts, errored)
	}
	members := cl.call(t, "GET", "/v2.1/os-server-groups/"+gid, cl.p1Reader, "2.64", "").object("server_group")["members"].([]any)
	got := []string{}
	for _, m := range members {
		got = append(got, m.(string))
	}
	sort.Strings(got)
	sort.Strings(ids)
	if !reflect.DeepEqual(got, ids) {
		t.Fatalf("members %v, want %v", got, ids)
	}
	if srv := cl.call(t, "GET", "/v2.1/servers/"+ids[0], cl.p1, "2.70", "").object("server"); srv["server_groups"] != nil {
		t.Fatalf("2.70 shows server_groups: %v", srv)
	}
	wantFault(t, cl.call(t, "POST", "/v2.1/servers", cl.p1, "2.71",
		`{"server": {"name": "x", "flavorRef": "1", "networks": "none"}, "os:scheduler_hints": {"same_host": "h1"}}`), http.StatusBadRequest, "badRequest", "only the group hint")
	wantFault(t, cl.call(t, "POST", "/v2.1/servers", cl.p2, "2.71",
		`{"server": {"name": "x", "flavorRef": "1", "networks": "none"}`+hint), http.StatusBadRequest, "badRequest", "not found in project p2")

	// Listing: own project; all_projects for operators and admins.
	names := func(token, query string) []string {
		var out []string
		for _, g := range cl.call(t, "GET", "/v2.1/os-server-groups"+query, token, "2.64", "").list("server_groups") {
			out = append(out, g["name"].(string))
		}
		sort.Strings(out)
		return out
	}
	if got := names(cl.p1Reader, ""); !reflect.DeepEqual(got, []string{"g-old", "spread"}) {
		t.Fatalf("p1 groups %v", got)
	}
	if got := names(cl.p2, ""); !reflect.DeepEqual(got, []string{"soft"}) {
		t.Fatalf("p2 groups %v", got)
	}
	if got := names(cl.operator, "?all_projects=True"); len(got) != 3 {
		t.Fatalf("all projects %v", got)
	}
	if got := names(cl.operator, "?all_projects=True&limit=1&offset=1"); len(got) != 1 {
		t.Fatalf("paged %v", got)
	}
	wantFault(t, cl.call(t, "GET", "/v2.1/os-server-groups?all_projects=True", cl.p1, "2.64", ""), http.StatusForbidden, "forbidden", "index:all_projects")
	wantFault(t, cl.call(t, "GET", "/v2.1/os-server-groups?all_projects", cl.p1Reader, "2.64", ""), http.StatusForbidden, "forbidden", "index:all_projects")

	// Another project is refused by policy; the reader cannot delete; the service can.
	wantFault(t, cl.call(t, "GET", "/v2.1/os-server-groups/"+gid, cl.p2, "2.64", ""), http.StatusForbidden, "forbidden", "os-server-groups:show")
	wantFault(t, cl.call(t, "DELETE", "/v2.1/os-server-groups/"+gid, cl.p2, "2.64", ""), http.StatusForbidden, "forbidden", "os-server-groups:delete")
	wantFault(t, cl.call(t, "DELETE", "/v2.1/os-server-groups/"+gid, cl.p1Reader, "2.64", ""), http.StatusForbidden, "forbidden", "")
	want(t, cl.call(t, "DELETE", "/v2.1/os-server-groups/"+gid, cl.p1, "2.64", ""), http.StatusNoContent)
	wantFault(t, cl.call(t, "GET", "/v2.1/os-server-groups/"+gid, cl.p1, "2.64", ""), http.StatusNotFound, "itemNotFound", "Instance group "+gid+" could not be found.")
}
