package compute_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

const (
	cell1 = "11111111-1111-4111-8111-111111111111"
	cell2 = "22222222-2222-4222-8222-222222222222"
)

// cloud is a data plane with two cells and tokens of every role.
type cloud struct {
	dp     *testcluster.DataPlane
	c1, c2 *testcluster.Conductor
	// Tokens: admin (unscoped), operator (unscoped), service and reader of project p1,
	// service of project p2.
	admin, operator, p1, p1Reader, p2 string
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startCloud starts a data plane with cell1 and cell2 (one host each) and flavors 1 and 2.
func startCloud(t *testing.T) *cloud {
	t.Helper()
	return startCloudWith(t, nil)
}

// startCloudWith is startCloud with data plane options.
func startCloudWith(t *testing.T, o *testcluster.DataPlaneOptions) *cloud {
	t.Helper()
	dp := testcluster.StartDataPlane(t, o)
	cl := &cloud{dp: dp, admin: testkit.AdminToken}
	cl.c1 = dp.AddCell(t, "cell1", cell1, "h1:64:65536:1000")
	cl.c2 = dp.AddCell(t, "cell2", cell2, "h2:64:65536:1000")
	for _, f := range []api.Flavor{{ID: "1", Name: "m1.tiny", VCPUs: 1, RAMMB: 512, DiskGB: 1, ExtraSpecs: map[string]string{"hw:cpu_policy": "shared"}},
		{ID: "2", Name: "m1.small", VCPUs: 2, RAMMB: 2048, DiskGB: 20}} {
		if _, err := dp.Client.CreateFlavor(ctxT(t), f); err != nil {
			t.Fatal(err)
		}
	}
	tok := func(role, project string) string {
		tk, err := dp.Client.CreateToken(ctxT(t), api.TokenCreate{Description: role + " " + project, Role: role, ProjectID: project})
		if err != nil {
			t.Fatal(err)
		}
		return tk.Secret
	}
	cl.operator, cl.p1, cl.p1Reader, cl.p2 = tok("operator", ""), tok("service", "p1"), tok("reader", "p1"), tok("service", "p2")
	return cl
}

// answer is a compute API response.
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// fault returns the name, code and message of a Nova fault body.
func (a answer) fault() (name string, code float64, msg string) {
	for k, v := range a.body {
		m, _ := v.(map[string]any)
		code, _ = m["code"].(float64)
		msg, _ = m["message"].(string)
		return k, code, msg
	}
	return "", 0, ""
}

// list returns a list member of the body.
func (a answer) list(key string) []map[string]any {
	items, _ := a.body[key].([]any)
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		m, _ := it.(map[string]any)
		out = append(out, m)
	}
	return out
}

// object returns an object member of the body.
func (a answer) object(key string) map[string]any {
	m, _ := a.body[key].(map[string]any)
	return m
}

// call sends a compute API request with token (none when "") at microversion version (none
// when "").
func (cl *cloud) call(t *testing.T, method, path, token, version, body string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), method, cl.dp.URL+"/compute"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if version != "" {
		req.Header.Set("OpenStack-API-Version", "compute "+version)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("%s %s: %d, body is not JSON: %s", method, path, resp.StatusCode, raw)
		}
	}
	return a
}

// want fails unless a has status.
func want(t *testing.T, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("got %d %s, want %d", a.status, a.raw, status)
	}
}

// wantFault fails unless a is Nova's fault body with status and a message containing msg.
func wantFault(t *testing.T, a answer, status int, name, msg string) {
	t.Helper()
	n, code, m := a.fault()
	if a.status != status || n != name || int(code) != status || !strings.Contains(m, msg) || len(a.body) != 1 {
		t.Fatalf("got %d %s, want %d {%q: {code %d, message ~%q}}", a.status, a.raw, status, name, status, msg)
	}
}

// keys returns the sorted keys of m.
func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// createServer creates a server through the compute API and waits until it is ACTIVE.
func (cl *cloud) createServer(t *testing.T, token, name, flavor string) string {
	t.Helper()
	a := cl.call(t, "POST", "/v2.1/servers", token, "2.69",
		`{"server": {"name": "`+name+`", "flavorRef": "`+flavor+`", "imageRef": "cirros", "networks": "none"}}`)
	want(t, a, http.StatusAccepted)
	id, _ := a.object("server")["id"].(string)
	testkit.WaitFor(t, name+" ACTIVE", 15*time.Second, func() bool {
		s := cl.call(t, "GET", "/v2.1/servers/"+id, token, "2.69", "")
		return s.status == 200 && s.object("server")["status"] == "ACTIVE"
	})
	return id
}
