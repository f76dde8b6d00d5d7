package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// identityLogin authenticates at the built-in identity API and returns the status and token.
func identityLogin(t *testing.T, addr, user, password, project string) (int, string) {
	t.Helper()
	body := `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "` + user +
		`", "domain": {"id": "default"}, "password": "` + password + `"}}}, "scope": {"project": {"id": "` + project + `"}}}}`
	a := call(t, addr, http.MethodPost, "/identity/v3/auth/tokens", body, "Authorization", "")
	return a.status, a.header.Get("X-Subject-Token")
}

// TestUsersAPI: /v1/identity/users is for admins (an operator token is refused with 403 on
// every method and changes nothing): create with a password and roles, list and show without
// the password or its hash, duplicate names and bad input refused; a password change revokes
// the user's tokens and the new password works; delete revokes them too.
func TestUsersAPI(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin := dp.Client
	op, err := admin.CreateToken(ctx, api.TokenCreate{Description: "op", Role: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	operator := admin.WithToken(op.Secret)
	if _, err := operator.CreateUser(ctx, api.UserCreate{Name: "x", Password: "pw"}); client.CodeOf(err) != api.CodeForbidden {
		t.Fatalf("operator creates a user: %v, want forbidden", err)
	}
	if _, err := operator.Users(ctx); client.CodeOf(err) != api.CodeForbidden {
		t.Fatalf("operator lists users: %v, want forbidden", err)
	}

	alice, err := admin.CreateUser(ctx, api.UserCreate{Name: "alice", Password: "first-pw", Roles: map[string]string{"demo": "service"}})
	if err != nil || alice.ID == "" || alice.Domain != "default" || alice.Roles["demo"] != "service" {
		t.Fatalf("create: %+v %v", alice, err)
	}
	for _, bad := range []api.UserCreate{{Name: "alice", Password: "x"}, {Name: "", Password: "x"}, {Name: "bob"},
		{Name: "bob", Password: "x", Roles: map[string]string{"demo": "root"}}, {Name: "bob", Password: strings.Repeat("x", acl.MaxPasswordBytes+1)}} {
		if _, err := admin.CreateUser(ctx, bad); err == nil {
			t.Errorf("create %+v accepted", bad)
		}
	}
	for _, path := range []string{"/v1/identity/users", "/v1/identity/users/alice", "/v1/identity/users/" + alice.ID} {
		a := call(t, dp.Addr, http.MethodGet, path, "", "Authorization", "Bearer "+testkit.AdminToken)
		if a.status != http.StatusOK || !strings.Contains(a.raw, "alice") || strings.Contains(a.raw, "argon2") ||
			strings.Contains(a.raw, "first-pw") || strings.Contains(a.raw, "hash") {
			t.Fatalf("GET %s: %d %s", path, a.status, a.raw)
		}
	}
	if status, _ := identityLogin(t, dp.Addr, "alice", "first-pw", "demo"); status != http.StatusCreated {
		t.Fatalf("alice logs in: %d", status)
	}
	status, old := identityLogin(t, dp.Addr, "alice", "first-pw", "demo")
	if status != http.StatusCreated {
		t.Fatalf("alice logs in again: %d", status)
	}
	if a := call(t, dp.Addr, http.MethodGet, "/v1/acl/token/self", "", "Authorization", "", "X-Auth-Token", old); a.status != http.StatusOK {
		t.Fatalf("alice's token: %d %s", a.status, a.raw)
	}
	pw := "second-pw"
	if _, err := operator.UpdateUser(ctx, "alice", api.UserUpdate{Password: &pw}); client.CodeOf(err) != api.CodeForbidden {
		t.Fatalf("operator changes a password: %v, want forbidden", err)
	}
	if _, err := admin.UpdateUser(ctx, "alice", api.UserUpdate{Password: &pw}); err != nil {
		t.Fatal(err)
	}
	if a := call(t, dp.Addr, http.MethodGet, "/v1/acl/token/self", "", "Authorization", "", "X-Auth-Token", old); a.status != http.StatusUnauthorized {
		t.Fatalf("a token from before the password change: %d, want 401", a.status)
	}
	if status, _ := identityLogin(t, dp.Addr, "alice", "first-pw", "demo"); status != http.StatusUnauthorized {
		t.Fatalf("the old password: %d, want 401", status)
	}
	status, cur := identityLogin(t, dp.Addr, "alice", "second-pw", "demo")
	if status != http.StatusCreated {
		t.Fatalf("the new password: %d", status)
	}
	if u, err := admin.UpdateUser(ctx, alice.ID, api.UserUpdate{Roles: &map[string]string{"demo": "reader"}}); err != nil || u.Roles["demo"] != "reader" {
		t.Fatalf("roles: %+v %v", u, err)
	}
	if _, err := admin.UpdateUser(ctx, "alice", api.UserUpdate{}); client.CodeOf(err) != api.CodeInvalid {
		t.Fatalf("empty update: %v, want invalid", err)
	}
	if err := operator.DeleteUser(ctx, "alice"); client.CodeOf(err) != api.CodeForbidden {
		t.Fatalf("operator deletes: %v, want forbidden", err)
	}
	if err := admin.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := admin.DeleteUser(ctx, "alice"); client.CodeOf(err) != api.CodeNotFound {
		t.Fatalf("second delete: %v, want not found", err)
	}
	if a := call(t, dp.Addr, http.MethodGet, "/v1/acl/token/self", "", "Authorization", "", "X-Auth-Token", cur); a.status != http.StatusUnauthorized {
		t.Fatalf("the deleted user's token: %d, want 401", a.status)
	}
	if users, err := admin.Users(ctx); err != nil || len(users) != 0 {
		t.Fatalf("users after delete: %+v %v", users, err)
	}
}
