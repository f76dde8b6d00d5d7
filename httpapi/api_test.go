package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

const (
	cellA = "11111111-1111-1111-1111-111111111111"
	cellB = "22222222-2222-2222-2222-222222222222"
	inst1 = "aaaaaaaa-0000-0000-0000-000000000001"
	inst2 = "aaaaaaaa-0000-0000-0000-000000000002"
	inst3 = "aaaaaaaa-0000-0000-0000-000000000003"
)

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// code returns the error code of an error body. The compute API's refusals (package compute)
// are keystonemiddleware's 401 body and Nova's forbidden fault: their codes are the API's.
func (a answer) code() string {
	if e, ok := a.body["error"].(map[string]any); ok {
		if code, ok := e["code"].(string); ok {
			return code
		}
		if e["title"] == "Unauthorized" {
			return api.CodeUnauthenticated
		}
	}
	if _, ok := a.body["forbidden"]; ok {
		return api.CodeForbidden
	}
	return ""
}

func call(t testing.TB, addr, method, path, body string, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testkit.AdminToken) // hdr may replace or clear it
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Del("Authorization")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 && resp.Header.Get("Content-Type") != "application/octet-stream" { // backups are binary
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("%s %s: answer is not a JSON object: %q", method, path, raw)
		}
	}
	if resp.Header.Get(api.HeaderIndex) == "" {
		t.Fatalf("%s %s: no %s header", method, path, api.HeaderIndex)
	}
	return a
}

// step is one request of a scenario and what it must answer.
type step struct {
	name, method, path, body string
	hdr                      []string
	status                   int
	code                     string // error code, when status >= 400
	check                    func(t *testing.T, a answer)
}

func runSteps(t *testing.T, addr string, steps []step) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			a := call(t, addr, s.method, s.path, s.body, s.hdr...)
			if a.status != s.status || (s.code != "" && a.code() != s.code) {
				t.Fatalf("got %d %q (%s), want %d %q", a.status, a.code(), a.raw, s.status, s.code)
			}
			if a.status >= 400 && a.code() == "" {
				t.Fatalf("error answer without a code: %s", a.raw)
			}
			if s.check != nil {
				s.check(t, a)
			}
		})
	}
}

func checksum(t testing.TB, addr string) string {
	t.Helper()
	a := call(t, addr, "GET", "/v1/cluster/status", "")
	return a.body["fsm_checksum"].(string)
}

func field(key string, want any) func(t *testing.T, a answer) {
	return func(t *testing.T, a answer) {
		t.Helper()
		if got := a.body[key]; got != want {
			t.Fatalf("%s: got %v, want %v (%s)", key, got, want, a.raw)
		}
	}
}

func cellBody(uuid, name, tu, db string) string {
	b, _ := json.Marshal(map[string]any{"uuid": uuid, "name": name, "transport_url": tu, "database_connection": db})
	return string(b)
}

func TestCells(t *testing.T) {
	n := testcluster.StartNode(t, &testcluster.Options{APIConfig: func(c *httpapi.Config) {
		c.BaseTransportURL = "rabbit://bob:s3kret@myhost:123/nova"
	}})
	runSteps(t, n.Addr, []step{
		{name: "map cell0", method: "POST", path: "/v1/cells/cell0", body: `{"database_connection":"mysql://c0"}`, status: 201},
		{name: "map cell0 again", method: "POST", path: "/v1/cells/cell0", status: 200, check: field("database_connection", "mysql://c0")},
		{name: "create", method: "POST", path: "/v1/cells", body: cellBody(cellA, "b-cell", "rabbit://{username}:{password}@h:5672/", "mysql://a"), status: 201, check: field("uuid", cellA)},
		{name: "create generates uuid", method: "POST", path: "/v1/cells", body: `{"name":"a-cell","transport_url":"rabbit://x:5672/","database_connection":"mysql://x"}`, status: 201},
		{name: "existing uuid", method: "POST", path: "/v1/cells", body: cellBody(cellA, "", "rabbit://z/", "mysql://z"), status: 409, code: api.CodeAlreadyExists},
		{name: "duplicate transport url", method: "POST", path: "/v1/cells", body: cellBody(cellB, "", "rabbit://x:5672/", "mysql://other"), status: 409, code: api.CodeDuplicateURL},
		{name: "duplicate db url", method: "POST", path: "/v1/cells", body: cellBody(cellB, "", "rabbit://other/", "mysql://a"), status: 409, code: api.CodeDuplicateURL},
		{name: "list sorted by name", method: "GET", path: "/v1/cells", status: 200, check: func(t *testing.T, a answer) {
			var names []string
			for _, c := range a.body["cells"].([]any) {
				names = append(names, c.(map[string]any)["name"].(string))
			}
			if strings.Join(names, ",") != "a-cell,b-cell,cell0" {
				t.Fatalf("got %v, want a-cell,b-cell,cell0", names)
			}
		}},
		{name: "get raw template", method: "GET", path: "/v1/cells/" + cellA, status: 200, check: field("transport_url", "rabbit://{username}:{password}@h:5672/")},
		{name: "get expanded", method: "GET", path: "/v1/cells/" + cellA + "?expand=true", status: 200, check: field("transport_url", "rabbit://bob:s3kret@h:5672/")},
		{name: "get stale", method: "GET", path: "/v1/cells/" + cellA + "?consistency=stale", status: 200, check: func(t *testing.T, a answer) {
			if a.header.Get(api.HeaderConsistency) != api.Stale || a.header.Get(api.HeaderLastContact) == "" {
				t.Fatalf("stale read headers missing: %v", a.header)
			}
		}},
		{name: "get missing", method: "GET", path: "/v1/cells/" + cellB, status: 404, code: api.CodeNotFound},
		{name: "get bad uuid", method: "GET", path: "/v1/cells/nope", status: 400, code: api.CodeInvalid},
		{name: "bad consistency", method: "GET", path: "/v1/cells?consistency=eventual", status: 400, code: api.CodeInvalid},
		{name: "max_stale needs stale", method: "GET", path: "/v1/cells?max_stale=1s", status: 400, code: api.CodeInvalid},
		{name: "bad expand", method: "GET", path: "/v1/cells?expand=maybe", status: 400, code: api.CodeInvalid},
		{name: "rename", method: "PATCH", path: "/v1/cells/" + cellA, body: `{"name":"renamed"}`, status: 200, check: field("name", "renamed")},
		{name: "disable", method: "PATCH", path: "/v1/cells/" + cellA, body: `{"disabled":true}`, status: 200, check: field("disabled", true)},
		{name: "update missing", method: "PATCH", path: "/v1/cells/" + cellB, body: `{"name":"x"}`, status: 404, code: api.CodeNotFound},
		{name: "update duplicate", method: "PATCH", path: "/v1/cells/" + cellA, body: `{"transport_url":"rabbit://x:5672/"}`, status: 409, code: api.CodeDuplicateURL},
		{name: "disable cell0", method: "PATCH", path: "/v1/cells/" + api.Cell0UUID, body: `{"disabled":true}`, status: 409, code: api.CodeCell0Immutable},
		{name: "update unknown field", method: "PATCH", path: "/v1/cells/" + cellA, body: `{"nmae":"x"}`, status: 400, code: api.CodeInvalid},
		{name: "delete missing", method: "DELETE", path: "/v1/cells/" + cellB, status: 404, code: api.CodeNotFound},
		{name: "bad force", method: "DELETE", path: "/v1/cells/" + cellA + "?force=yes", status: 400, code: api.CodeInvalid},
		{name: "delete", method: "DELETE", path: "/v1/cells/" + cellA, status: 204},
		{name: "gone", method: "GET", path: "/v1/cells/" + cellA, status: 404, code: api.CodeNotFound},
	})
}

func TestBadInputChangesNothing(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	before := checksum(t, n.Addr)
	huge := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
	runSteps(t, n.Addr, []step{
		{name: "not json", method: "POST", path: "/v1/cells", body: `{"name":`, status: 400, code: api.CodeInvalid},
		{name: "empty body", method: "POST", path: "/v1/cells", status: 400, code: api.CodeInvalid},
		{name: "unknown field", method: "POST", path: "/v1/cells", body: `{"transport_url":"rabbit://b/","database_connection":"m://b","color":"red"}`, status: 400, code: api.CodeInvalid},
		{name: "trailing data", method: "POST", path: "/v1/cells", body: cellBody(cellB, "b", "rabbit://b/", "m://b") + `{}`, status: 400, code: api.CodeInvalid},
		{name: "too large", method: "POST", path: "/v1/cells", body: huge, status: 413, code: api.CodeTooLarge},
		{name: "missing transport url", method: "POST", path: "/v1/cells", body: `{"database_connection":"m://b"}`, status: 400, code: api.CodeInvalid},
		{name: "missing database", method: "POST", path: "/v1/cells", body: `{"transport_url":"rabbit://b/"}`, status: 400, code: api.CodeInvalid},
		{name: "no scheme", method: "POST", path: "/v1/cells", body: `{"transport_url":"mq-host:5672","database_connection":"m://b"}`, status: 400, code: api.CodeInvalid},
		{name: "bad port", method: "POST", path: "/v1/cells", body: `{"transport_url":"rabbit://u:p@h:notaport/","database_connection":"m://b"}`, status: 400, code: api.CodeInvalid},
		{name: "bad uuid", method: "POST", path: "/v1/cells", body: cellBody("1234", "b", "rabbit://b/", "m://b"), status: 400, code: api.CodeInvalid},
		{name: "control char in name", method: "POST", path: "/v1/cells", body: cellBody(cellB, "b\u0001", "rabbit://b/", "m://b"), status: 400, code: api.CodeInvalid},
		{name: "bad mapping uuid", method: "PUT", path: "/v1/instance-mappings/xyz", body: `{"project_id":"p"}`, status: 400, code: api.CodeInvalid},
		{name: "mapping without project", method: "PUT", path: "/v1/instance-mappings/" + inst1, body: `{"cell_uuid":null}`, status: 400, code: api.CodeInvalid},
		{name: "mapping bad cell uuid", method: "PUT", path: "/v1/instance-mappings/" + inst1, body: `{"project_id":"p","cell_uuid":"c"}`, status: 400, code: api.CodeInvalid},
		{name: "bad If-Match", method: "PUT", path: "/v1/instance-mappings/" + inst1, body: `{"project_id":"p"}`, hdr: []string{"If-Match", "abc"}, status: 400, code: api.CodeInvalid},
		{name: "bad If-None-Match", method: "PUT", path: "/v1/instance-mappings/" + inst1, body: `{"project_id":"p"}`, hdr: []string{"If-None-Match", "12"}, status: 400, code: api.CodeInvalid},
		{name: "bad flavor", method: "POST", path: "/v1/flavors", body: `{"id":"1","name":"x","vcpus":0,"ram_mb":1,"disk_gb":1}`, status: 400, code: api.CodeInvalid},
		{name: "bad txn op", method: "POST", path: "/v1/txn", body: `{"ops":[{"op":"upsert","table":"instance_mapping","key":"` + inst1 + `"}]}`, status: 400, code: api.CodeInvalid},
		{name: "bad host name", method: "PUT", path: "/v1/hosts/h%01x", body: `{"cell_uuid":"` + cellA + `"}`, status: 400, code: api.CodeInvalid},
		{name: "unknown endpoint", method: "GET", path: "/v1/nothing", status: 404, code: api.CodeNoSuchEndpoint},
		{name: "wrong method", method: "PUT", path: "/v1/cells", status: 405, code: api.CodeMethodNotAllowed},
	})
	if after := checksum(t, n.Addr); after != before {
		t.Fatalf("state changed by rejected requests: checksum %s -> %s", before, after)
	}
}
