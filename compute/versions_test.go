package compute_test

import (
	"net/http"
	"testing"
)

// TestVersionDiscovery: GET /compute/ and /compute/v2.1/ answer without a token (as Nova's
// version endpoints); the root is not under microversions, v2.1 is. An unsupported version is
// 406, a malformed one 400, both without version headers; anyone may call these.
func TestVersionDiscovery(t *testing.T) {
	cl := startCloud(t)
	root := cl.call(t, "GET", "/", "", "", "")
	want(t, root, http.StatusOK)
	vs := root.list("versions")
	if len(vs) != 1 || vs[0]["id"] != "v2.1" || vs[0]["status"] != "CURRENT" || vs[0]["version"] != "2.92" || vs[0]["min_version"] != "2.1" {
		t.Fatalf("versions %s", root.raw)
	}
	links, _ := vs[0]["links"].([]any)
	if self, _ := links[0].(map[string]any); self["href"] != cl.dp.URL+"/compute/v2.1/" || self["rel"] != "self" {
		t.Fatalf("self link %v", links)
	}
	if root.header.Get("OpenStack-API-Version") != "" {
		t.Fatalf("the root answered version headers: %v", root.header)
	}

	for _, path := range []string{"/v2.1", "/v2.1/"} {
		v := cl.call(t, "GET", path, "", "2.69", "")
		want(t, v, http.StatusOK)
		doc := v.object("version")
		if doc["id"] != "v2.1" || doc["version"] != "2.92" || doc["min_version"] != "2.1" || doc["media-types"] == nil {
			t.Fatalf("%s: %s", path, v.raw)
		}
		if v.header.Get("OpenStack-API-Version") != "compute 2.69" || v.header.Get("X-OpenStack-Nova-API-Version") != "2.69" ||
			len(v.header.Values("Vary")) != 2 {
			t.Fatalf("%s: headers %v", path, v.header)
		}
	}

	for _, tc := range []struct {
		version string
		status  int
		name    string
		msg     string
	}{
		{"2.93", http.StatusNotAcceptable, "computeFault", "Version 2.93 is not supported by the API. Minimum is 2.1 and maximum is 2.92."},
		{"2.0", http.StatusNotAcceptable, "computeFault", "Version 2.0 is not supported by the API."},
		{"2.x", http.StatusBadRequest, "badRequest", "API Version String 2.x is of invalid format. Must be of format MajorNum.MinorNum."},
	} {
		a := cl.call(t, "GET", "/v2.1/flavors", cl.p1, tc.version, "")
		wantFault(t, a, tc.status, tc.name, tc.msg)
		if a.header.Get("OpenStack-API-Version") != "" {
			t.Fatalf("%s: a refused version answered version headers %v", tc.version, a.header)
		}
	}
	latest := cl.call(t, "GET", "/v2.1/flavors", cl.p1, "latest", "")
	if latest.status != 200 || latest.header.Get("OpenStack-API-Version") != "compute 2.92" {
		t.Fatalf("latest: %d %v", latest.status, latest.header)
	}
	none := cl.call(t, "GET", "/v2.1/flavors", cl.p1, "", "")
	if none.header.Get("X-OpenStack-Nova-API-Version") != "2.1" {
		t.Fatalf("no header: %v", none.header)
	}
}

// TestRefusals: without a token the answer is keystonemiddleware's 401; a role below the
// route's is Nova's policy 403 (forbidden, with the version headers). Readers may read,
// creating a server needs service, os-services needs operator.
func TestRefusals(t *testing.T) {
	cl := startCloud(t)
	a := cl.call(t, "GET", "/v2.1/servers", "", "2.69", "")
	if a.status != 401 || a.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d %v %s", a.status, a.header, a.raw)
	}
	e := a.object("error")
	if e["code"] != float64(401) || e["title"] != "Unauthorized" {
		t.Fatalf("no token: %s", a.raw)
	}
	bad := cl.call(t, "GET", "/v2.1/servers", "cm_not-a-token", "2.69", "")
	want(t, bad, 401)

	reader := cl.call(t, "POST", "/v2.1/servers", cl.p1Reader, "2.69", `{"server": {"name": "x", "flavorRef": "1", "networks": "none"}}`)
	wantFault(t, reader, http.StatusForbidden, "forbidden", "reader")
	if reader.header.Get("OpenStack-API-Version") != "compute 2.69" {
		t.Fatalf("403 without version headers: %v", reader.header)
	}
	svc := cl.call(t, "GET", "/v2.1/os-services", cl.p1, "2.69", "")
	wantFault(t, svc, http.StatusForbidden, "forbidden", "service")
	want(t, cl.call(t, "GET", "/v2.1/servers", cl.p1Reader, "2.69", ""), http.StatusOK)
	want(t, cl.call(t, "GET", "/v2.1/os-services", cl.operator, "2.69", ""), http.StatusOK)
}
