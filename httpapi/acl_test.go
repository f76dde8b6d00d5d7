package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// tokensByRole creates one token of each role on the node (with the admin token).
func tokensByRole(t *testing.T, n *testcluster.Node) map[acl.Role]string {
	t.Helper()
	out := map[acl.Role]string{acl.RoleAdmin: testkit.AdminToken}
	for _, r := range []acl.Role{acl.RoleReader, acl.RoleService, acl.RoleOperator} {
		tok, err := n.Client.CreateToken(context.Background(), api.TokenCreate{Description: "test " + r.String(), Role: r.String()})
		if err != nil {
			t.Fatal(err)
		}
		out[r] = tok.Secret
	}
	return out
}

// fillPath puts placeholder values into a route template's variables.
func fillPath(tmpl string) string {
	r := strings.NewReplacer("{uuid}", inst3, "{host}", "h-none", "{id}", "none", "{accessor}", inst3, "{key}", "k", "{user}", "nobody")
	return r.Replace(tmpl)
}

// TestEveryRouteEnforcesItsRole walks every route the API registered (a route cannot be added
// without a permission) and calls it without a token, with a token of every role and with a
// malformed token: below the route's role the answer is 401 or 403 and the state does not
// change; at or above it the request gets past authorization. Public routes answer anyone.
func TestEveryRouteEnforcesItsRole(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	tokens := tokensByRole(t, dp.Node)
	perms := dp.API.Permissions()
	names := make([]string, 0, len(perms))
	for name := range perms {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) < 30 {
		t.Fatalf("only %d routes registered: %v", len(names), names)
	}
	roles := []acl.Role{acl.RoleNone, acl.RoleReader, acl.RoleService, acl.RoleOperator, acl.RoleAdmin}
	for _, name := range names {
		method, tmpl, _ := strings.Cut(name, " ")
		if method == "*" { // the node-to-node prefix: node certificates or admin tokens
			method, tmpl = http.MethodPost, "/internal/join"
		}
		path, perm := fillPath(tmpl), perms[name]
		if path == "/v1/watch" {
			path += "?kinds=none" // past the permission check a 400, not an endless stream
		}
		for _, role := range roles {
			if name == "POST /v1/acl/bootstrap" && role != acl.RoleNone {
				continue // answered the same to everyone (409: bootstrapped already)
			}
			t.Run(fmt.Sprintf("%s as %s", name, role), func(t *testing.T) {
				before := checksum(t, dp.Addr)
				a := call(t, dp.Addr, method, path, "{}", "Authorization", bearerOf(tokens[role]))
				allowed := perm == acl.PermPublic || role >= perm.MinRole()
				switch {
				case allowed && (a.status == 401 || a.status == 403):
					t.Fatalf("a %s token was refused (%d %s) on a route that needs %s", role, a.status, a.raw, perm)
				case !allowed && role == acl.RoleNone && (a.status != 401 || a.code() != api.CodeUnauthenticated || a.header.Get("WWW-Authenticate") == ""):
					t.Fatalf("no token: got %d %s, want 401 unauthenticated with WWW-Authenticate", a.status, a.raw)
				case !allowed && role != acl.RoleNone && (a.status != 403 || a.code() != api.CodeForbidden):
					t.Fatalf("a %s token: got %d %s, want 403 forbidden (the route needs %s)", role, a.status, a.raw, perm)
				case !allowed && checksum(t, dp.Addr) != before:
					t.Fatal("a refused request changed the state")
				}
			})
		}
	}
	bad := call(t, dp.Addr, http.MethodGet, "/v1/cells", "", "Authorization", "Bearer cm_not-a-token")
	xauth := call(t, dp.Addr, http.MethodGet, "/v1/cells", "", "Authorization", "", "X-Auth-Token", tokens[acl.RoleReader])
	if bad.status != 401 || xauth.status != 200 {
		t.Fatalf("malformed token: %d; X-Auth-Token: %d %s", bad.status, xauth.status, xauth.raw)
	}
}

func bearerOf(token string) string {
	if token == "" {
		return ""
	}
	return "Bearer " + token
}

// TestTokensLifecycle: bootstrap once, create with a role, a project and a TTL, self, list
// without secrets, revoke (then refused), expiry, and secrets masked below operator.
func TestTokensLifecycle(t *testing.T) {
	n := testcluster.StartNode(t, &testcluster.Options{NoACLBootstrap: true})
	anon := n.Client.WithToken("")
	ctx := context.Background()
	boot, err := anon.ACLBootstrap(ctx)
	if err != nil || !acl.WellFormed(boot.Secret) || boot.Role != "admin" {
		t.Fatalf("bootstrap: %+v %v", boot, err)
	}
	if _, err := anon.ACLBootstrap(ctx); err == nil || !strings.Contains(err.Error(), api.CodeACLAlreadyBootstrapped) {
		t.Fatalf("second bootstrap: %v, want acl_already_bootstrapped", err)
	}
	admin := n.Client.WithToken(boot.Secret)
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://u:s3cret@mq/", "mysql://u:s3cret@db/a"), "Authorization", "Bearer "+boot.Secret)

	reader, err := admin.CreateToken(ctx, api.TokenCreate{Description: "dashboards", Role: "reader", ProjectID: "p1", TTL: "1h"})
	if err != nil || reader.Secret == "" || reader.ExpiresAt == nil || reader.ProjectID != "p1" {
		t.Fatalf("create: %+v %v", reader, err)
	}
	self, err := n.Client.WithToken(reader.Secret).TokenSelf(ctx)
	if err != nil || self.AccessorID != reader.AccessorID || self.Secret != "" {
		t.Fatalf("self: %+v %v", self, err)
	}
	list, err := admin.Tokens(ctx)
	if err != nil || len(list) != 2 || list[0].Secret != "" || list[1].Secret != "" {
		t.Fatalf("list: %+v %v", list, err)
	}
	a := call(t, n.Addr, "GET", "/v1/cells/"+cellA, "", "Authorization", "Bearer "+reader.Secret)
	if strings.Contains(a.raw, "s3cret") || !strings.Contains(a.raw, "****") {
		t.Fatalf("a reader sees %s, want the passwords masked", a.raw)
	}
	if a := call(t, n.Addr, "GET", "/v1/cells/"+cellA, "", "Authorization", "Bearer "+boot.Secret); !strings.Contains(a.raw, "s3cret") {
		t.Fatalf("an admin sees %s, want the URLs as stored", a.raw)
	}
	for _, bad := range []api.TokenCreate{{Role: "root"}, {Role: "operator", ProjectID: "p1"}, {Role: "reader", TTL: "-1h"}, {Role: "reader", TTL: "soon"}} {
		if _, err := admin.CreateToken(ctx, bad); err == nil || !strings.Contains(err.Error(), "400") {
			t.Fatalf("create %+v: %v, want 400", bad, err)
		}
	}

	// A revoke naming the accessor in upper case, or not a uuid, is a 400 that changes nothing.
	for _, bad := range []string{strings.ToUpper(reader.AccessorID), "not-a-uuid"} {
		if err := admin.RevokeToken(ctx, bad); err == nil || !strings.Contains(err.Error(), "400") {
			t.Fatalf("revoke %q: %v, want 400", bad, err)
		}
	}
	if err := admin.RevokeToken(ctx, reader.AccessorID); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Client.WithToken(reader.Secret).TokenSelf(ctx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a revoked token: %v, want 401", err)
	}

	short, err := admin.CreateToken(ctx, api.TokenCreate{Role: "reader", TTL: "1s"})
	if err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the token to expire", 10*time.Second, func() bool {
		_, err := n.Client.WithToken(short.Secret).TokenSelf(ctx)
		return err != nil && strings.Contains(err.Error(), "401")
	})
}

// TestProjectScopedTokens: a service token of project p1 lists and shows only p1's servers and
// mappings (another project's answer 404, as in Nova), creates only in p1 (403 otherwise) and
// cannot replace or delete another project's mapping; the state is unchanged by the refusals.
func TestProjectScopedTokens(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	dp.AddCell(t, "cell1", cellA, "h1:16:32768:500")
	call(t, dp.Addr, "POST", "/v1/flavors", `{"id":"1","name":"small","vcpus":1,"ram_mb":512,"disk_gb":1}`)
	ctx := context.Background()
	tok, err := dp.Client.CreateToken(ctx, api.TokenCreate{Role: "service", ProjectID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	as := func(method, path, body string) answer {
		return call(t, dp.Addr, method, path, body, "Authorization", "Bearer "+tok.Secret)
	}
	mine := as("POST", "/v1/servers", serverBody("mine", nil))
	theirs := call(t, dp.Addr, "POST", "/v1/servers", strings.Replace(serverBody("theirs", nil), `"p1"`, `"p2"`, 1))
	if mine.status != 202 || theirs.status != 202 {
		t.Fatalf("creates: %d %s / %d %s", mine.status, mine.raw, theirs.status, theirs.raw)
	}
	mineID := mine.body["server"].(map[string]any)["id"].(string)
	theirID := theirs.body["server"].(map[string]any)["id"].(string)
	for _, id := range []string{mineID, theirID} {
		testkit.WaitFor(t, id+" scheduled", 30*time.Second, func() bool {
			s, err := dp.Client.Server(ctx, id)
			return err == nil && s.Status == api.StatusActive
		})
	}

	before := checksum(t, dp.Addr)
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/v1/servers", strings.Replace(serverBody("x", nil), `"p1"`, `"p2"`, 1), 403},
		{"GET", "/v1/servers/" + theirID, "", 404},
		{"DELETE", "/v1/servers/" + theirID, "", 404},
		{"GET", "/v1/instance-mappings/" + theirID, "", 404},
		{"PUT", "/v1/instance-mappings/" + theirID, `{"project_id":"p1"}`, 404},
		{"PUT", "/v1/instance-mappings/" + inst1, `{"project_id":"p2"}`, 403},
		{"DELETE", "/v1/instance-mappings/" + theirID, "", 404},
		{"POST", "/v1/txn", `{"ops":[{"op":"delete","table":"instance_mapping","key":"` + theirID + `"}]}`, 403},
		{"POST", "/v1/txn", `{"ops":[{"op":"put","table":"instance_mapping","key":"` + theirID + `","instance_mapping":{"instance_uuid":"` + theirID + `","project_id":"p1"}}]}`, 404},
	} {
		if a := as(tc.method, tc.path, tc.body); a.status != tc.status {
			t.Errorf("%s %s: got %d %s, want %d", tc.method, tc.path, a.status, a.raw, tc.status)
		}
	}
	if after := checksum(t, dp.Addr); after != before {
		t.Fatal("refused requests of a scoped token changed the state")
	}
	list := as("GET", "/v1/servers?all_tenants=true", "")
	servers, _ := list.body["servers"].([]any)
	if len(servers) != 1 || servers[0].(map[string]any)["id"] != mineID {
		t.Fatalf("a p1 token listed %s, want only its server", list.raw)
	}
	ml := as("GET", "/v1/instance-mappings", "")
	if ms, _ := ml.body["instance_mappings"].([]any); len(ms) != 1 {
		t.Fatalf("a p1 token listed mappings %s, want only p1's", ml.raw)
	}
	if a := as("GET", "/v1/servers/"+mineID, ""); a.status != 200 {
		t.Fatalf("its own server: %d %s", a.status, a.raw)
	}
}
