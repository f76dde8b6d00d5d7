package compute_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestServersLifecycle: create (networks "auto"/"none"), show, list, detail, metadata and
// delete through the compute API, with Nova's shapes by microversion. A service token of a
// project creates and deletes in it; a reader of the project may only read; another project's
// token sees a 404; all_tenants needs operator or admin.
func TestServersLifecycle(t *testing.T) {
	cl := startCloud(t)
	body := `{"server": {"name": "web-1", "flavorRef": "1", "imageRef": "cirros", "networks": "auto", "metadata": {"role": "web"}}}`
	created := cl.call(t, "POST", "/v2.1/servers", cl.p1, "2.69", body)
	want(t, created, http.StatusAccepted)
	srv := created.object("server")
	id, _ := srv["id"].(string)
	if got := keys(srv); !reflect.DeepEqual(got, []string{"OS-DCF:diskConfig", "id", "links", "security_groups"}) {
		t.Fatalf("create answer keys %v", got)
	}
	if created.header.Get("Location") != cl.dp.URL+"/compute/v2.1/servers/"+id {
		t.Fatalf("Location %q", created.header.Get("Location"))
	}
	testkit.WaitFor(t, "web-1 ACTIVE", 15*time.Second, func() bool {
		return cl.call(t, "GET", "/v2.1/servers/"+id, cl.p1, "2.69", "").object("server")["status"] == "ACTIVE"
	})

	// Show at 2.1: the flavor is a link; at 2.47 and later the embedded size.
	old := cl.call(t, "GET", "/v2.1/servers/"+id, cl.p1Reader, "", "").object("server")
	flavor, _ := old["flavor"].(map[string]any)
	if flavor["id"] != "1" || old["name"] != "web-1" || old["tenant_id"] != "p1" || old["OS-EXT-STS:vm_state"] != "active" {
		t.Fatalf("2.1 show %v", old)
	}
	if _, ok := old["locked"]; ok {
		t.Fatal("2.1 shows locked (from 2.9)")
	}
	cur := cl.call(t, "GET", "/v2.1/servers/"+id, cl.p1, "2.92", "").object("server")
	flavor, _ = cur["flavor"].(map[string]any)
	md, _ := cur["metadata"].(map[string]any)
	if flavor["original_name"] != "m1.tiny" || flavor["vcpus"] != float64(1) || md["role"] != "web" ||
		cur["server_groups"] == nil || cur["locked"] != false || cur["OS-EXT-SRV-ATTR:hostname"] != "web-1" {
		t.Fatalf("2.92 show %v", cur)
	}
	if _, ok := cur["OS-EXT-SRV-ATTR:host"]; ok {
		t.Fatal("a project token sees the host (admins only)")
	}
	adm := cl.call(t, "GET", "/v2.1/servers/"+id, cl.admin, "2.92", "").object("server")
	if adm["OS-EXT-SRV-ATTR:host"] != "h1" && adm["OS-EXT-SRV-ATTR:host"] != "h2" {
		t.Fatalf("admin show %v", adm)
	}

	// Metadata.
	want(t, cl.call(t, "GET", "/v2.1/servers/"+id+"/metadata", cl.p1Reader, "2.69", ""), http.StatusOK)
	meta := cl.call(t, "GET", "/v2.1/servers/"+id+"/metadata/role", cl.p1, "2.69", "")
	if m := meta.object("meta"); m["role"] != "web" {
		t.Fatalf("metadata key %s", meta.raw)
	}
	wantFault(t, cl.call(t, "GET", "/v2.1/servers/"+id+"/metadata/nope", cl.p1, "2.69", ""), 404, "itemNotFound", "Metadata item was not found")

	// Another project sees nothing; a reader cannot delete; all_tenants needs an operator.
	wantFault(t, cl.call(t, "GET", "/v2.1/servers/"+id, cl.p2, "2.69", ""), 404, "itemNotFound", "Instance "+id+" could not be found.")
	if l := cl.call(t, "GET", "/v2.1/servers", cl.p2, "2.69", "").list("servers"); len(l) != 0 {
		t.Fatalf("p2 lists %v", l)
	}
	wantFault(t, cl.call(t, "DELETE", "/v2.1/servers/"+id, cl.p1Reader, "2.69", ""), 403, "forbidden", "reader")
	wantFault(t, cl.call(t, "GET", "/v2.1/servers/detail?all_tenants=1", cl.p1, "2.69", ""), 403, "forbidden",
		"Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed.")
	all := cl.call(t, "GET", "/v2.1/servers/detail?all_tenants=True", cl.operator, "2.69", "").list("servers")
	if len(all) != 1 || all[0]["id"] != id {
		t.Fatalf("operator all_tenants %v", all)
	}

	// Create errors: networks required from 2.37, a list of networks is not modelled, unknown
	// flavor, unknown field.
	for _, tc := range []struct{ version, body, msg string }{
		{"2.37", `{"server": {"name": "x", "flavorRef": "1"}}`, "'networks' is a required property"},
		{"2.69", `{"server": {"name": "x", "flavorRef": "1", "networks": [{"uuid": "n1"}]}}`, "does not model networking"},
		{"2.69", `{"server": {"name": "x", "flavorRef": "99", "networks": "none"}}`, "flavor 99 could not be found"},
		{"2.69", `{"server": {"name": "x", "flavorRef": "1", "networks": "none", "key_name": "k"}}`, "key_name"},
		{"2.69", `{"server": {"name": " ", "flavorRef": "1", "networks": "none"}}`, "name"},
	} {
		wantFault(t, cl.call(t, "POST", "/v2.1/servers", cl.p1, tc.version, tc.body), 400, "badRequest", tc.msg)
	}
	want(t, cl.call(t, "POST", "/v2.1/servers", cl.p1, "2.36", `{"server": {"name": "old", "flavorRef": "1"}}`), http.StatusAccepted)
	wantFault(t, cl.call(t, "POST", "/v2.1/servers", cl.operator, "2.69", `{"server": {"name": "x", "flavorRef": "1", "networks": "none"}}`),
		400, "badRequest", "not scoped to a project")

	// Delete: 204, then 404.
	want(t, cl.call(t, "DELETE", "/v2.1/servers/"+id, cl.p1, "2.69", ""), http.StatusNoContent)
	wantFault(t, cl.call(t, "GET", "/v2.1/servers/"+id, cl.p1, "2.69", ""), 404, "itemNotFound", "could not be found")
	wantFault(t, cl.call(t, "DELETE", "/v2.1/servers/"+id, cl.p1, "2.69", ""), 404, "itemNotFound", "could not be found")
	wantFault(t, cl.call(t, "GET", "/v2.1/servers/not-a-uuid", cl.p1, "2.69", ""), 404, "itemNotFound", "could not be found")
}

// TestServerListing: Nova's filters that apply (name regex, status, changes-since), limit and
// marker with the next link as Nova writes it, sorting, and the refusals: an unknown
// parameter from 2.75, a filter cellmap does not model, an unknown status from 2.38. A reader
// of the project may list.
func TestServerListing(t *testing.T) {
	cl := startCloud(t)
	var ids []string
	for _, name := range []string{"db-1", "web-1", "web-2", "web-3"} {
		ids = append(ids, cl.createServer(t, cl.p1, name, "1"))
	}
	names := func(a answer) []string {
		var out []string
		for _, s := range a.list("servers") {
			n, _ := s["name"].(string)
			out = append(out, n)
		}
		return out
	}
	list := func(query string) answer {
		a := cl.call(t, "GET", "/v2.1/servers/detail?"+query, cl.p1Reader, "2.69", "")
		want(t, a, 200)
		return a
	}
	if got := names(list("")); !reflect.DeepEqual(got, []string{"web-3", "web-2", "web-1", "db-1"}) {
		t.Fatalf("default order (created_at desc): %v", got)
	}
	if got := names(list("name=^web-[12]$&sort_key=display_name&sort_dir=asc")); !reflect.DeepEqual(got, []string{"web-1", "web-2"}) {
		t.Fatalf("name regex: %v", got)
	}
	if got := names(list("status=active&name=db")); !reflect.DeepEqual(got, []string{"db-1"}) {
		t.Fatalf("status: %v", got)
	}
	if got := names(list("status=ERROR")); len(got) != 0 {
		t.Fatalf("status ERROR: %v", got)
	}
	future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	if got := names(list("changes-since=" + future)); len(got) != 0 {
		t.Fatalf("changes-since in the future: %v", got)
	}
	if got := names(list("changes-since=2020-01-01T00:00:00Z")); len(got) != 4 {
		t.Fatalf("changes-since in the past: %v", got)
	}

	// Paging: a full page has a next link repeating the query with the last id as marker.
	page := list("limit=2&sort_key=display_name&sort_dir=asc")
	if got := names(page); !reflect.DeepEqual(got, []string{"db-1", "web-1"}) {
		t.Fatalf("page 1: %v", got)
	}
	next := page.list("servers_links")
	wantNext := cl.dp.URL + "/compute/v2.1/servers/detail?limit=2&sort_dir=asc&sort_key=display_name&marker=" + ids[1]
	if len(next) != 1 || next[0]["rel"] != "next" || next[0]["href"] != wantNext {
		t.Fatalf("next link %v, want %s", next, wantNext)
	}
	u, _ := url.Parse(next[0]["href"].(string))
	page2 := list(u.RawQuery)
	if got := names(page2); !reflect.DeepEqual(got, []string{"web-2", "web-3"}) {
		t.Fatalf("page 2: %v", got)
	}
	if got := names(list("limit=2&marker=" + ids[3] + "&sort_key=display_name&sort_dir=asc")); len(got) != 0 {
		t.Fatalf("after the last: %v", got)
	}
	filtered := list("name=web&limit=1")
	if got := names(filtered); !reflect.DeepEqual(got, []string{"web-3"}) || len(filtered.list("servers_links")) != 1 {
		t.Fatalf("filtered page: %v %s", got, filtered.raw)
	}

	// The basic view: id, name, links.
	basic := cl.call(t, "GET", "/v2.1/servers?limit=1", cl.p1, "2.69", "")
	if s := basic.list("servers"); len(s) != 1 || !reflect.DeepEqual(keys(s[0]), []string{"id", "links", "name"}) {
		t.Fatalf("basic %s", basic.raw)
	}
	if l := basic.list("servers_links"); len(l) != 1 || !strings.HasPrefix(l[0]["href"].(string), cl.dp.URL+"/compute/v2.1/servers?limit=1&marker=") {
		t.Fatalf("basic next link %s", basic.raw)
	}

	for _, tc := range []struct{ version, query, name, msg string }{
		{"2.75", "foo=1", "badRequest", "Additional properties are not allowed ('foo' was unexpected)"},
		{"2.69", "image=cirros", "badRequest", "does not model the image filter"},
		{"2.38", "status=NOPE", "badRequest", "Invalid status value"},
		{"2.69", "marker=" + "99999999-9999-4999-8999-999999999999", "badRequest", "not found"},
		{"2.69", "sort_key=launched_at", "badRequest", "cannot sort servers"},
		{"2.69", "status=DELETED", "forbidden", "Only administrators may list deleted instances"},
	} {
		status := map[string]int{"badRequest": 400, "forbidden": 403}[tc.name]
		wantFault(t, cl.call(t, "GET", "/v2.1/servers/detail?"+tc.query, cl.p1, tc.version, ""), status, tc.name, tc.msg)
	}
	if a := cl.call(t, "GET", "/v2.1/servers/detail?foo=1", cl.p1, "2.74", ""); a.status != 200 || len(a.list("servers")) != 4 {
		t.Fatalf("an unknown parameter before 2.75 is ignored: %d %s", a.status, a.raw)
	}
	if a := cl.call(t, "GET", "/v2.1/servers/detail?status=NOPE", cl.p1, "2.37", ""); a.status != 200 || len(a.list("servers")) != 0 {
		t.Fatalf("an unknown status before 2.38 is an empty list: %d %s", a.status, a.raw)
	}
}
