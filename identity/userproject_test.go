package identity_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

// TestUserTokensActInTheirProject: on the compute API a server's user_id is the identity user,
// and an admin whose token was issued for a project acts in it as Nova's admin does: its
// creates go there and its plain list shows that project (all_tenants every project); a
// system-scoped admin token still cannot create (no project). Who may call what: creates need
// the service role in the project (or admin); all_tenants needs operator or admin.
func TestUserTokensActInTheirProject(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	dp.AddCell(t, "cell1", "ec8c7b1c-06b9-4e86-9c2a-2f4f1d1ad301", "h1:64:65536:1000")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := dp.Client.CreateFlavor(ctx, api.Flavor{ID: "1", Name: "m1.tiny", VCPUs: 1, RAMMB: 512, DiskGB: 1}); err != nil {
		t.Fatal(err)
	}
	aliceID := addUser(t, dp, "alice", "alice-pw", map[string]string{"demo": "service"})
	rootID := addUser(t, dp, "root", "root-pw", map[string]string{"admin": "admin"})
	auth := func(user, password string, scope any) string {
		r := call(t, http.MethodPost, dp.URL+"/identity/v3/auth/tokens", "", "", passwordAuth(user, password, map[string]string{"name": "Default"}, scope))
		if r.status != http.StatusCreated {
			t.Fatalf("%s: %d %s", user, r.status, r.raw)
		}
		return r.header.Get("X-Subject-Token")
	}
	alice, root := auth("alice", "alice-pw", projectScope("demo")), auth("root", "root-pw", projectScope("admin"))
	system := auth("root", "root-pw", map[string]any{"system": map[string]bool{"all": true}})

	create := func(token, name string) reply {
		return call(t, http.MethodPost, dp.URL+"/compute/v2.1/servers", token, "",
			`{"server": {"name": "`+name+`", "flavorRef": "1", "imageRef": "cirros", "networks": "none"}}`)
	}
	for _, c := range []struct{ token, name, user, project string }{{alice, "a", aliceID, "demo"}, {root, "r", rootID, "admin"}} {
		r := create(c.token, c.name)
		if r.status != http.StatusAccepted {
			t.Fatalf("%s creates: %d %s", c.name, r.status, r.raw)
		}
		id, _ := get(r.body, "server", "id").(string)
		s := call(t, http.MethodGet, dp.URL+"/compute/v2.1/servers/"+id, root, "", nil)
		if get(s.body, "server", "user_id") != c.user || get(s.body, "server", "tenant_id") != c.project {
			t.Fatalf("%s's server: %s, want user %s in project %s", c.name, s.raw, c.user, c.project)
		}
	}
	if r := create(system, "s"); r.status != http.StatusBadRequest {
		t.Fatalf("a system-scoped admin creates: %d %s, want 400 (no project)", r.status, r.raw)
	}
	names := func(token, query string) map[string]bool {
		r := call(t, http.MethodGet, dp.URL+"/compute/v2.1/servers"+query, token, "", nil)
		if r.status != http.StatusOK {
			t.Fatalf("list%s: %d %s", query, r.status, r.raw)
		}
		out := map[string]bool{}
		for _, s := range get(r.body, "servers").([]any) {
			out[get(s, "name").(string)] = true
		}
		return out
	}
	if got := names(root, ""); len(got) != 1 || !got["r"] {
		t.Errorf("root's plain list %v, want its project's server only", got)
	}
	if got := names(root, "?all_tenants=1"); len(got) != 2 {
		t.Errorf("root's all_tenants list %v, want both", got)
	}
	if r := call(t, http.MethodGet, dp.URL+"/compute/v2.1/servers?all_tenants=1", alice, "", nil); r.status != http.StatusForbidden {
		t.Errorf("a project's service lists all tenants: %d %s, want 403", r.status, r.raw)
	}
}
