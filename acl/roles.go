package acl

import (
	"errors"
	"fmt"
	"time"
)

// Role is what a token may do; each role includes the ones below it.
type Role int

// Roles, lowest first.
const (
	RoleNone Role = iota
	RoleReader
	RoleService
	RoleOperator
	RoleAdmin
)

var roleNames = map[Role]string{RoleReader: "reader", RoleService: "service", RoleOperator: "operator", RoleAdmin: "admin"}

func (r Role) String() string {
	if n, ok := roleNames[r]; ok {
		return n
	}
	return "none"
}

// ParseRole returns the role called name.
func ParseRole(name string) (Role, error) {
	for r, n := range roleNames {
		if n == name {
			return r, nil
		}
	}
	return RoleNone, fmt.Errorf("%w: role %q (want reader, service, operator or admin)", ErrInvalidToken, name)
}

// Perm is what an operation needs.
type Perm int

// Permissions, each held by a role and every role above it.
const (
	// PermPublic: no token (health, readiness, the ACL bootstrap).
	PermPublic Perm = iota
	// PermRead: lookups, listings, status (reader).
	PermRead
	// PermServers: server create/list/show/delete and instance-mapping writes (service).
	PermServers
	// PermOperate: cell and host mappings, cell_v2 operations, flavors, any transaction; sees
	// cell secrets (operator).
	PermOperate
	// PermAdmin: membership, tokens, keyring, backups, node-to-node endpoints (admin).
	PermAdmin
)

var permRoles = map[Perm]Role{PermPublic: RoleNone, PermRead: RoleReader, PermServers: RoleService, PermOperate: RoleOperator, PermAdmin: RoleAdmin}

// MinRole is the lowest role holding p.
func (p Perm) MinRole() Role { return permRoles[p] }

func (p Perm) String() string {
	if p == PermPublic {
		return "public"
	}
	return p.MinRole().String()
}

// Errors of the decisions.
var (
	// ErrUnauthenticated: no token, or one that is unknown, expired or revoked (401).
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: a valid token whose role does not hold the permission (403).
	ErrForbidden = errors.New("forbidden")
	// ErrInvalidToken: a token request that cannot be honoured (400).
	ErrInvalidToken = errors.New("invalid token request")
)

// Identity is who a request acts as.
type Identity struct {
	AccessorID  string
	Description string
	Role        Role
	// ProjectID, when set, confines a reader or service token to one project.
	ProjectID string
	// UserID is the user the token was issued to (the built-in identity's or Keystone's),
	// empty for a token made with /v1/acl/tokens.
	UserID string
	// HomeProject is the project a user's cloud-wide (operator or admin) token was issued
	// for: where the OpenStack API puts what the user creates and what it lists by default,
	// as Nova's admin acts in the project its token is scoped to. It confines nothing.
	HomeProject string
	ExpiresAt   time.Time
	// Node is a node of the cluster (its certificate), not a token.
	Node string
}

// Authorize reports whether id may do what p needs (ErrForbidden otherwise).
func (id *Identity) Authorize(p Perm) error {
	if p == PermPublic {
		return nil
	}
	if id == nil {
		return ErrUnauthenticated
	}
	if id.Role < p.MinRole() {
		return fmt.Errorf("%w: a %s token cannot do what needs %s", ErrForbidden, id.Role, p.MinRole())
	}
	return nil
}

// SeesSecrets reports whether cell URLs are shown to id unmasked (operator and admin).
func (id *Identity) SeesSecrets() bool { return id != nil && id.Role >= RoleOperator }

// InProject reports whether id may see or change something of project: unscoped identities
// may, scoped ones only in their project.
func (id *Identity) InProject(project string) bool {
	return id == nil || id.ProjectID == "" || id.ProjectID == project
}
