package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestComputePort: with --compute-addr the compute API is served at the root of its own
// listener (as nova-api's 8774) with the same tokens and roles: the version document links
// to that listener, /v2.1 and /v2 paths work, every other path (the cellmap API, /compute) is
// Nova's 404; the built-in identity's catalog names that listener. Who may call what: version
// discovery and password auth need no token; listing flavors and servers needs reader;
// creating a server needs the service role (a reader is refused 403); creating a user admin.
func TestComputePort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	addr := testkit.FreeAddr(t)
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{Size: 1, Args: []string{"--compute-addr", addr}})
	reader, err := c.Nodes[0].Client.CreateToken(ctx(t, 10*time.Second), api.TokenCreate{Role: "reader", Description: "compute port"})
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, token, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx(t, 10*time.Second), method, "http://"+addr+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("X-Auth-Token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var out map[string]any
		json.Unmarshal(raw, &out)
		return resp.StatusCode, out
	}
	status, doc := do("GET", "/", "", "")
	versions, _ := doc["versions"].([]any)
	if status != http.StatusOK || len(versions) != 1 {
		t.Fatalf("GET /: %d %v", status, doc)
	}
	links, _ := versions[0].(map[string]any)["links"].([]any)
	if href := links[0].(map[string]any)["href"]; href != "http://"+addr+"/v2.1/" {
		t.Fatalf("version link %v, want the compute listener's /v2.1/", href)
	}
	for _, c := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/v2.1/flavors", "", http.StatusUnauthorized},
		{"GET", "/v2.1/flavors", reader.Secret, http.StatusOK},
		{"GET", "/v2/servers/detail", reader.Secret, http.StatusOK},
		{"GET", "/v2.1/", reader.Secret, http.StatusOK},
		{"POST", "/v2.1/servers", reader.Secret, http.StatusForbidden},
		{"GET", "/v1/cells", testkit.AdminToken, http.StatusNotFound},
		{"GET", "/compute/v2.1/flavors", testkit.AdminToken, http.StatusNotFound},
		{"GET", "/metrics", testkit.AdminToken, http.StatusNotFound},
	} {
		body := ""
		if c.method == "POST" {
			body = `{"server": {"name": "x", "flavorRef": "1", "imageRef": "cirros", "networks": "none"}}`
		}
		if got, out := do(c.method, c.path, c.token, body); got != c.want {
			t.Errorf("%s %s: %d %v, want %d", c.method, c.path, got, out, c.want)
		}
	}
	if status, out := do("GET", "/v1/cells", testkit.AdminToken, ""); out["itemNotFound"] == nil {
		t.Errorf("a path outside the compute API: %d %v, want Nova's itemNotFound", status, out)
	}

	// The built-in identity's catalog names the compute listener, at the host the client used,
	// and the token it issues works there.
	n := c.Nodes[0]
	if _, err := n.Client.CreateUser(ctx(t, 10*time.Second), api.UserCreate{Name: "alice", Password: "alice-pw",
		Roles: map[string]string{"demo": "service"}}); err != nil {
		t.Fatal(err)
	}
	auth := `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "alice", "domain": {"name": "Default"},
		"password": "alice-pw"}}}, "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}}}}`
	req, _ := http.NewRequestWithContext(ctx(t, 10*time.Second), "POST", "http://"+n.HTTP+"/identity/v3/auth/tokens", strings.NewReader(auth))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Token struct {
			Catalog []struct {
				Type      string
				Endpoints []struct{ URL string }
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("password auth: %d %v", resp.StatusCode, err)
	}
	_, port, _ := net.SplitHostPort(addr)
	host, _, _ := net.SplitHostPort(n.HTTP)
	var compute string
	for _, e := range body.Token.Catalog {
		if e.Type == "compute" && len(e.Endpoints) > 0 {
			compute = e.Endpoints[0].URL
		}
	}
	if want := "http://" + net.JoinHostPort(host, port) + "/v2.1"; compute != want {
		t.Fatalf("catalog compute endpoint %q, want %q", compute, want)
	}
	if status, out := do("GET", "/v2.1/servers", resp.Header.Get("X-Subject-Token"), ""); status != http.StatusOK {
		t.Fatalf("the identity token on the compute listener: %d %v", status, out)
	}
}
