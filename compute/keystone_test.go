package compute_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/internal/testing/keystonetest"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/keystone"
)

// TestKeystone: a real Keystone (Debian's) on loopback authenticates the real `openstack`
// client, whose catalog sends it to cellmap's compute API, and cellmap validates the tokens
// with that Keystone. Roles: a member of project A creates and sees A's servers; a member of
// project B sees none of them (list empty, show 404); a reader of A lists but cannot create
// (403); a token revoked in Keystone is refused (401) once the validation cache's bound
// (2 s here) has passed. An admin of project ops creates there and lists its project (every
// project with --all-projects, which only admins may).
func TestKeystone(t *testing.T) {
	testkit.Tool(t, "openstack", "python3-openstackclient", "CELLMAP_OPENSTACK_REQUIRED")
	ks := keystonetest.Start(t)
	projA, projB, svc, ops := ks.CreateProject("project-a"), ks.CreateProject("project-b"), ks.CreateProject("service"), ks.CreateProject("ops")
	ks.CreateUser("cellmap", "svc-pw", svc, "admin")
	ks.CreateUser("alice", "alice-pw", projA, "member")
	ks.CreateUser("bob", "bob-pw", projB, "member")
	ks.CreateUser("carol", "carol-pw", projA, "reader")
	daveID := ks.CreateUser("dave", "dave-pw", ops, "admin")

	cfg := keystone.DefaultConfig()
	cfg.URL, cfg.CacheTTL = ks.URL, 2*time.Second
	cfg.Service = keystone.Credentials{Username: "cellmap", Password: "svc-pw", ProjectName: "service",
		UserDomainName: "Default", ProjectDomainName: "Default"}
	v, err := keystone.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cl := startCloudWith(t, &testcluster.DataPlaneOptions{API: func(c *httpapi.Config) { c.ExternalTokens = v }})
	if _, err := cl.dp.Client.CreateImage(ctxT(t), api.Image{ID: "8c1a9e32-7e2f-4b8e-9d50-3c9d7c1e0a11", Name: "cirros",
		DiskFormat: "qcow2", ContainerFormat: "bare"}); err != nil {
		t.Fatal(err)
	}
	ks.AddEndpoint("compute", "nova", cl.dp.URL+"/compute/v2.1")
	ks.AddEndpoint("image", "glance", cl.dp.URL+"/image")

	osc := keystoneClouds(t, ks.URL, map[string][2]string{"alice": {"alice-pw", "project-a"},
		"bob": {"bob-pw", "project-b"}, "carol": {"carol-pw", "project-a"}, "dave": {"dave-pw", "ops"}})
	var created map[string]any
	osc.json(&created, "alice", "server", "create", "--flavor", "m1.tiny", "--image", "cirros", "--wait", "ks-vm")
	id, _ := created["id"].(string)
	if created["status"] != "ACTIVE" || id == "" {
		t.Fatalf("server create through Keystone's catalog: %v", created)
	}
	var list []map[string]any
	osc.json(&list, "alice", "server", "list")
	if len(list) != 1 || list[0]["ID"] != id {
		t.Fatalf("alice's server list %v, want %s", list, id)
	}
	osc.json(&list, "bob", "server", "list")
	if len(list) != 0 {
		t.Fatalf("a member of project B sees project A's servers: %v", list)
	}
	osc.refused("No server with a name or ID", "bob", "server", "show", id) // 404 by id, then no match by name
	osc.json(&list, "carol", "server", "list")
	if len(list) != 1 {
		t.Fatalf("a reader of project A: %v", list)
	}
	osc.refused("403", "carol", "server", "create", "--flavor", "m1.tiny", "--image", "cirros", "ks-no")

	// An admin acts in the project its token is scoped to, as on Nova: its server is the
	// project's and the user's, its plain list is that project's, --all-projects every one.
	var mine map[string]any
	osc.json(&mine, "dave", "server", "create", "--flavor", "m1.tiny", "--image", "cirros", "--wait", "ks-admin-vm")
	if mine["project_id"] != ops || mine["user_id"] != daveID {
		t.Fatalf("the admin's server: project %v user %v, want %s and %s", mine["project_id"], mine["user_id"], ops, daveID)
	}
	osc.json(&list, "dave", "server", "list")
	if len(list) != 1 || list[0]["Name"] != "ks-admin-vm" {
		t.Fatalf("the admin's plain list %v, want its project's server", list)
	}
	osc.json(&list, "dave", "server", "list", "--all-projects")
	if len(list) != 2 {
		t.Fatalf("the admin's --all-projects list %v, want both servers", list)
	}

	// Revocation: the token works, Keystone revokes it, cellmap refuses it once its cached
	// validation has expired.
	tok, err := ks.Token("alice", "alice-pw", "project-a")
	if err != nil {
		t.Fatal(err)
	}
	listWith := func(token string) int {
		req, _ := http.NewRequest("GET", cl.dp.URL+"/compute/v2.1/servers", nil)
		req.Header.Set("X-Auth-Token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := listWith(tok); s != 200 {
		t.Fatalf("a fresh Keystone token: %d", s)
	}
	ks.Revoke(tok)
	testkit.WaitFor(t, "the revoked token to be refused", 30*time.Second, func() bool { return listWith(tok) == 401 })
	if s := listWith("not-a-token"); s != 401 {
		t.Fatalf("a token Keystone does not know: %d, want 401", s)
	}
}

// keystoneClouds writes a clouds.yaml whose clouds authenticate at Keystone with a password
// (user, password and project name per cloud), as an OpenStack user's would.
func keystoneClouds(t *testing.T, authURL string, users map[string][2]string) *osClient {
	t.Helper()
	var b strings.Builder
	b.WriteString("clouds:\n")
	for user, pw := range users {
		b.WriteString("  " + user + ":\n    region_name: RegionOne\n    identity_api_version: 3\n    auth:\n" +
			"      auth_url: " + authURL + "\n      username: " + user + "\n      password: " + pw[0] +
			"\n      project_name: " + pw[1] + "\n      user_domain_name: Default\n      project_domain_name: Default\n")
	}
	path := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return &osClient{t: t, config: path}
}
