package conductor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/api"
)

// step is one request of an HTTP scenario and what must come back.
type step struct {
	method, path, body string
	status             int
	code               string                   // the error code, for statuses >= 400
	check              func(*testing.T, []byte) // looks at a success body
}

func createBody(uuid string, vcpus int64, extra string) string {
	return fmt.Sprintf(`{"uuid":%q,"name":"web","project_id":"p1","user_id":"u1","image_ref":"img",`+
		`"flavor":{"id":"1","name":"m1","vcpus":%d,"ram_mb":2048,"disk_gb":10,"extra_specs":{"k":"v"}},`+
		`"created_at":"2026-01-02T03:04:05.123456789Z"%s}`, uuid, vcpus, extra)
}

// decodeAs decodes a body or fails the test.
func decodeAs[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %T: %v in %s", v, err, body)
	}
	return v
}

func wantInstance(want func(api.Instance) bool) func(*testing.T, []byte) {
	return func(t *testing.T, body []byte) {
		if in := decodeAs[api.Instance](t, body); !want(in) {
			t.Fatalf("got instance %+v", in)
		}
	}
}

func wantCount(n int) func(*testing.T, []byte) {
	return func(t *testing.T, body []byte) {
		if got := decodeAs[api.InstanceList](t, body); len(got.Instances) != n {
			t.Fatalf("got %d instances, want %d", len(got.Instances), n)
		}
	}
}

func wantHosts(names ...string) func(*testing.T, []byte) {
	return func(t *testing.T, body []byte) {
		got := hostNames(decodeAs[api.ComputeHostList](t, body).Hosts)
		if strings.Join(got, ",") != strings.Join(names, ",") {
			t.Fatalf("got hosts %v, want %v", got, names)
		}
	}
}

func TestHTTPScenario(t *testing.T) {
	_, base := newTestConductor(t, t.TempDir(), nil, host("h1", 4, 4096, 100), host("h2", 8, 8192, 100))
	u1, u2 := testUUID(1), testUUID(2)
	steps := []step{
		{"GET", "/healthz", "", 200, "", func(t *testing.T, b []byte) {
			if h := decodeAs[Health](t, b); h != (Health{Status: "ok", CellUUID: testCell}) {
				t.Fatalf("got %+v", h)
			}
		}},
		{"POST", "/v1/instances", createBody(u1, 2, ""), 201, "", wantInstance(func(in api.Instance) bool {
			return in.UUID == u1 && in.Host == "h2" && in.Status == api.StatusActive && in.Flavor.ExtraSpecs["k"] == "v" &&
				in.CreatedAt.Nanosecond() == 123456789
		})},
		{"POST", "/v1/instances", createBody(u1, 2, ""), 200, "", wantInstance(func(in api.Instance) bool { return in.Host == "h2" })},
		{"POST", "/v1/instances", createBody(u2, 2, `,"bogus":1`), 400, api.CodeInvalid, nil},
		{"POST", "/v1/instances", createBody("not-a-uuid", 2, ""), 400, api.CodeInvalid, nil},
		{"POST", "/v1/instances", "not json", 400, api.CodeInvalid, nil},
		{"POST", "/v1/instances", "", 400, api.CodeInvalid, nil},
		{"POST", "/v1/instances", createBody(u2, 2, "") + "{}", 400, api.CodeInvalid, nil},
		{"POST", "/v1/instances", createBody(u2, 2, `,"metadata":{"k":"`+strings.Repeat("x", 1<<20)+`"}`), 413, api.CodeTooLarge, nil},
		{"POST", "/v1/instances", createBody(u2, 64, ""), 409, api.CodeNoValidHost, nil},
		{"GET", "/v1/instances/" + u2, "", 404, api.CodeNotFound, nil},
		{"GET", "/v1/instances", "", 200, "", wantCount(1)},
		{"GET", "/v1/instances?project_id=p2", "", 200, "", wantCount(0)},
		{"GET", "/v1/instances?limit=0", "", 400, api.CodeInvalid, nil},
		{"GET", "/v1/instances?marker=" + u2, "", 400, api.CodeMarkerNotFound, nil},
		{"GET", "/v1/instances?sort_key=bogus", "", 400, api.CodeInvalid, nil},
		{"GET", "/v1/instances?sort_key=name&sort_dir=asc&sort_dir=desc", "", 400, api.CodeInvalid, nil},
		{"GET", "/v1/instances?after=%5B%22x%22%5D", "", 400, api.CodeInvalid, nil},
		{"GET", "/v1/instances/" + u1, "", 200, "", wantInstance(func(in api.Instance) bool { return in.UUID == u1 })},
		{"GET", "/v1/instances/" + strings.ToUpper(u1), "", 200, "", wantInstance(func(in api.Instance) bool { return in.UUID == u1 })},
		{"GET", "/v1/instances/not-a-uuid", "", 400, api.CodeInvalid, nil},
		{"GET", "/v1/instances/" + u1 + "?deleted=maybe", "", 400, api.CodeInvalid, nil},
		{"GET", "/v1/capacity?vcpus=1&ram_mb=1024", "", 200, "", func(t *testing.T, b []byte) {
			c := decodeAs[api.Capacity](t, b)
			if c.Fits != 4+6 || c.FreeVCPUs != 10 || c.FreeRAMMB != 10240 || c.FreeDiskGB != 190 || len(c.Hosts) != 2 || c.UnmappedHosts != 2 {
				t.Fatalf("got %+v, want fits 10, free 10/10240/190, 2 unmapped hosts", c)
			}
		}},
		{"GET", "/v1/capacity", "", 200, "", func(t *testing.T, b []byte) {
			if c := decodeAs[api.Capacity](t, b); c.Fits != 0 || c.FreeVCPUs != 10 {
				t.Fatalf("got %+v, want fits 0 without a size", c)
			}
		}},
		{"GET", "/v1/capacity?vcpus=x", "", 400, api.CodeInvalid, nil},
		{"GET", "/v1/capacity?vcpus=-1", "", 400, api.CodeInvalid, nil},
		{"GET", "/v1/capacity?vcpus=0&ram_mb=0", "", 400, api.CodeInvalid, nil},
		{"GET", "/v1/compute-hosts", "", 200, "", wantHosts("h1", "h2")},
		{"POST", "/v1/compute-hosts", `{"name":"h3","vcpus":2,"ram_mb":1024,"disk_gb":0}`, 201, "", func(t *testing.T, b []byte) {
			if h := decodeAs[api.ComputeHost](t, b); h.Name != "h3" || h.VCPUs != 2 || h.Mapped || h.CreatedAt.IsZero() {
				t.Fatalf("got %+v", h)
			}
		}},
		{"POST", "/v1/compute-hosts", `{"name":"h3","vcpus":2,"ram_mb":1024,"disk_gb":0}`, 409, api.CodeAlreadyExists, nil},
		{"POST", "/v1/compute-hosts", `{"name":"h4","vcpus":0,"ram_mb":1024,"disk_gb":0}`, 400, api.CodeInvalid, nil},
		{"POST", "/v1/compute-hosts", `{"name":"h4","vcpus":1,"ram_mb":1024,"disk_gb":0,"mapped":true}`, 400, api.CodeInvalid, nil},
		{"PUT", "/v1/compute-hosts/h1/mapped", `{"mapped":true}`, 200, "", func(t *testing.T, b []byte) {
			if h := decodeAs[api.ComputeHost](t, b); h.Name != "h1" || !h.Mapped {
				t.Fatalf("got %+v, want h1 mapped", h)
			}
		}},
		{"PUT", "/v1/compute-hosts/nope/mapped", `{"mapped":true}`, 404, api.CodeNotFound, nil},
		{"PUT", "/v1/compute-hosts/h1/mapped", `{"mapped":"yes"}`, 400, api.CodeInvalid, nil},
		{"PUT", "/v1/compute-hosts/h1/mapped", `{"mapped":true,"x":1}`, 400, api.CodeInvalid, nil},
		{"GET", "/v1/compute-hosts?mapped=false", "", 200, "", wantHosts("h2", "h3")},
		{"GET", "/v1/compute-hosts?mapped=true", "", 200, "", wantHosts("h1")},
		{"GET", "/v1/compute-hosts?mapped=perhaps", "", 400, api.CodeInvalid, nil},
		{"GET", "/v1/services", "", 200, "", func(t *testing.T, b []byte) {
			got := decodeAs[api.ServiceList](t, b).Services
			if len(got) != 3 || got[0] != (api.Service{Host: "h1", Binary: "nova-compute"}) {
				t.Fatalf("got %+v, want h1..h3 as nova-compute", got)
			}
		}},
		{"GET", "/v1/stats", "", 200, "", func(t *testing.T, b []byte) {
			want := api.CellStats{CellUUID: testCell, Instances: 1, ComputeHosts: 3}
			if got := decodeAs[api.CellStats](t, b); got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		}},
		{"DELETE", "/v1/instances/" + u1, "", 204, "", nil},
		{"DELETE", "/v1/instances/" + u1, "", 404, api.CodeNotFound, nil},
		{"DELETE", "/v1/instances/not-a-uuid", "", 400, api.CodeInvalid, nil},
		{"GET", "/v1/instances/" + u1, "", 404, api.CodeNotFound, nil},
		{"GET", "/v1/instances/" + u1 + "?deleted=yes", "", 200, "", wantInstance(func(in api.Instance) bool {
			return in.Deleted && in.Status == api.StatusDeleted && in.DeletedAt != nil
		})},
		{"GET", "/v1/instances", "", 200, "", wantCount(0)},
		{"GET", "/v1/instances?deleted=only&marker=" + u1, "", 200, "", wantCount(0)},
		{"GET", "/v1/instances?deleted=only", "", 200, "", wantCount(1)},
		{"POST", "/v1/instances", createBody(u1, 2, ""), 409, api.CodeAlreadyExists, nil},
		{"GET", "/v1/stats", "", 200, "", func(t *testing.T, b []byte) {
			want := api.CellStats{CellUUID: testCell, Instances: 0, DeletedInstances: 1, ComputeHosts: 3}
			if got := decodeAs[api.CellStats](t, b); got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		}},
		{"GET", "/metrics", "", 200, "", func(t *testing.T, b []byte) {
			for _, want := range []string{
				`cellmap_conductor_instances{cell="` + testCell + `",state="active"} 0`,
				`cellmap_conductor_instances{cell="` + testCell + `",state="deleted"} 1`,
				`cellmap_conductor_compute_hosts{cell="` + testCell + `"} 3`,
				`cellmap_conductor_capacity{cell="` + testCell + `",kind="used",resource="vcpus"} 0`,
				`cellmap_conductor_capacity{cell="` + testCell + `",kind="free",resource="vcpus"} 14`,
				"process_resident_memory_bytes",
			} {
				if !strings.Contains(string(b), want) {
					t.Fatalf("/metrics lacks %q:\n%s", want, b)
				}
			}
		}},
		{"GET", "/v1/nothing", "", 404, api.CodeNotFound, nil},
		{"PATCH", "/v1/instances", "", 405, api.CodeMethodNotAllowed, nil},
	}
	for i, s := range steps {
		t.Run(fmt.Sprintf("%02d %s %.60s", i, s.method, s.path), func(t *testing.T) { s.run(t, base) })
	}
}

func (s step) run(t *testing.T, base string) {
	t.Helper()
	req, err := http.NewRequest(s.method, base+s.path, bytes.NewBufferString(s.body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != s.status {
		t.Fatalf("got status %d (%s), want %d", resp.StatusCode, body, s.status)
	}
	if s.status == http.StatusNoContent {
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" && (s.path != "/metrics" || !strings.HasPrefix(ct, "text/plain")) {
		t.Fatalf("got Content-Type %q, want application/json (text/plain for /metrics)", ct)
	}
	if s.status >= 400 {
		e := decodeAs[api.Error](t, body)
		if e.Detail.Code != s.code || e.Detail.Message == "" {
			t.Fatalf("got error %+v, want code %s with a message", e.Detail, s.code)
		}
		return
	}
	if s.check != nil {
		s.check(t, body)
	}
}
