package acl

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/fsm"
)

func TestAuthorize(t *testing.T) {
	perms := []Perm{PermPublic, PermRead, PermServers, PermOperate, PermAdmin}
	// allowed[role] lists the permissions each role holds.
	allowed := map[Role][]Perm{
		RoleReader:   {PermPublic, PermRead},
		RoleService:  {PermPublic, PermRead, PermServers},
		RoleOperator: {PermPublic, PermRead, PermServers, PermOperate},
		RoleAdmin:    perms,
	}
	for role, ok := range allowed {
		id := &Identity{Role: role}
		for _, p := range perms {
			err := id.Authorize(p)
			if want := slices.Contains(ok, p); (err == nil) != want || (err != nil && !errors.Is(err, ErrForbidden)) {
				t.Errorf("%s on %s: %v, want allowed %v", role, p, err, want)
			}
		}
	}
	var nobody *Identity
	if err := nobody.Authorize(PermRead); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("no identity: %v, want unauthenticated", err)
	}
	if err := nobody.Authorize(PermPublic); err != nil {
		t.Errorf("no identity on a public endpoint: %v", err)
	}
}

func TestSecretsAndScopes(t *testing.T) {
	if (&Identity{Role: RoleService}).SeesSecrets() || !(&Identity{Role: RoleOperator}).SeesSecrets() {
		t.Error("only operator and admin see secrets")
	}
	scoped := &Identity{Role: RoleService, ProjectID: "p1"}
	if !scoped.InProject("p1") || scoped.InProject("p2") || !(&Identity{Role: RoleReader}).InProject("p2") {
		t.Error("project scoping")
	}
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSecret()
	if a == b || !strings.HasPrefix(a, SecretPrefix) || !WellFormed(a) || WellFormed(a+"x") || WellFormed("cm_short") {
		t.Errorf("secrets %q %q", a, b)
	}
	if h := Hash(a); len(h) != 64 || !SameHash(h, Hash(a)) || SameHash(h, Hash(b)) {
		t.Errorf("hash %q", h)
	}
}

// TestRoleNamesMatchTheState: the state validates role names on its own (it imports nothing of
// the project); they must be the roles here.
func TestRoleNamesMatchTheState(t *testing.T) {
	for _, n := range fsm.TokenRoles {
		if _, err := ParseRole(n); err != nil {
			t.Errorf("state role %q: %v", n, err)
		}
	}
	if len(fsm.TokenRoles) != len(roleNames) {
		t.Errorf("state roles %v, acl roles %v", fsm.TokenRoles, roleNames)
	}
}
