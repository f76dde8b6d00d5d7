package fsm

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cellmap/cellmap/api/validate"
	bolt "go.etcd.io/bbolt"
)

// Users (log version 5): the users of the built-in identity API (package identity), each with
// a salted slow hash of its password and its roles on projects. The proposer hashes the
// password; the password itself never reaches the log or the state.

// Command types of the users.
const (
	CmdCreateUser CommandType = 14
	CmdUpdateUser CommandType = 15
	CmdDeleteUser CommandType = 16
)

// DefaultDomain is the one identity domain (Keystone's "default", named "Default").
const DefaultDomain = "default"

// PasswordHashPrefix starts every stored password hash (PHC string format of argon2id).
const PasswordHashPrefix = "$argon2id$"

// User is a user of the built-in identity API.
type User struct {
	ID     string
	Name   string
	Domain string
	// PasswordHash is the PHC string of the password's argon2id hash (salt included).
	PasswordHash string
	// Roles maps a project to the user's role on it (one of TokenRoles).
	Roles     map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
	Revision  uint64
}

var usersTable = &table{name: "user", bucket: []byte("users"), newRec: func() Record { return &User{} },
	indexes: []index{{bucket: []byte("users_by_name"), value: func(r Record) string { return userNameKey(r.(*User).Domain, r.(*User).Name) }}}}

func userNameKey(domain, name string) string { return domain + "/" + name }

// CreateUser adds a user; an id or a name (in its domain) in use is ErrExists.
type CreateUser struct{ User User }

// UpdateUser changes a user's password hash and/or roles (the fields that are set) and revokes
// every token the user was issued.
type UpdateUser struct {
	ID           string
	PasswordHash *string
	Roles        *map[string]string
}

// DeleteUser removes a user and revokes every token it was issued.
type DeleteUser struct{ ID string }

func (*CreateUser) Type() CommandType      { return CmdCreateUser }
func (c *CreateUser) marshal(e *encoder)   { c.User.marshal(e) }
func (c *CreateUser) unmarshal(d *decoder) { c.User.unmarshal(d) }

// Validate checks the user as POST /v1/identity/users does.
func (c *CreateUser) Validate() error {
	if err := c.User.validate(); err != nil {
		return invalid("create_user", err)
	}
	return nil
}

func (*UpdateUser) Type() CommandType { return CmdUpdateUser }

func (c *UpdateUser) marshal(e *encoder) {
	e.str(c.ID)
	e.boolean(c.PasswordHash != nil)
	if c.PasswordHash != nil {
		e.str(*c.PasswordHash)
	}
	e.boolean(c.Roles != nil)
	if c.Roles != nil {
		e.strMap(*c.Roles)
	}
}

func (c *UpdateUser) unmarshal(d *decoder) {
	c.ID = d.str()
	if d.boolean() {
		h := d.str()
		c.PasswordHash = &h
	}
	if d.boolean() {
		m := d.strMap()
		if m == nil {
			m = map[string]string{}
		}
		c.Roles = &m
	}
}

// Validate checks the id and the fields that are set.
func (c *UpdateUser) Validate() error {
	err := canonicalUUID("id", c.ID)
	switch {
	case err != nil:
	case c.PasswordHash == nil && c.Roles == nil:
		err = fmt.Errorf("nothing to change")
	case c.PasswordHash != nil:
		err = validPasswordHash(*c.PasswordHash)
	}
	if err == nil && c.Roles != nil {
		err = validRoles(*c.Roles)
	}
	if err != nil {
		return invalid("update_user", err)
	}
	return nil
}

func (*DeleteUser) Type() CommandType      { return CmdDeleteUser }
func (c *DeleteUser) marshal(e *encoder)   { e.str(c.ID) }
func (c *DeleteUser) unmarshal(d *decoder) { c.ID = d.str() }

// Validate checks the user id.
func (c *DeleteUser) Validate() error {
	if err := canonicalUUID("id", c.ID); err != nil {
		return invalid("delete_user", err)
	}
	return nil
}

func (u *User) Key() string { return u.ID }
func (u *User) rev() uint64 { return u.Revision }

func (u *User) marshal(e *encoder) {
	e.str(u.ID)
	e.str(u.Name)
	e.str(u.Domain)
	e.str(u.PasswordHash)
	e.strMap(u.Roles)
	e.timestamp(u.CreatedAt)
	e.timestamp(u.UpdatedAt)
	e.uvarint(u.Revision)
}

func (u *User) unmarshal(d *decoder) {
	u.ID, u.Name, u.Domain, u.PasswordHash = d.str(), d.str(), d.str(), d.str()
	u.Roles = d.strMap()
	u.CreatedAt, u.UpdatedAt = d.timestamp(), d.timestamp()
	u.Revision = d.uvarint()
}

func (u *User) stamp(ac *applyCtx, prev Record) {
	u.Revision, u.UpdatedAt = ac.index, ac.now
	if p, ok := prev.(*User); ok && p != nil {
		u.CreatedAt = p.CreatedAt
	} else {
		u.CreatedAt = ac.now
	}
}

func (u *User) validate() error {
	if u.Domain != DefaultDomain {
		return fmt.Errorf("domain must be %q (the only domain)", DefaultDomain)
	}
	if strings.Contains(u.Name, "/") {
		return fmt.Errorf("name must not contain /")
	}
	return firstError(canonicalUUID("id", u.ID), validate.Name("name", u.Name, true), validPasswordHash(u.PasswordHash),
		validRoles(u.Roles))
}

func validPasswordHash(h string) error {
	if !strings.HasPrefix(h, PasswordHashPrefix) || len(h) > 512 {
		return fmt.Errorf("password_hash must be an argon2id PHC string")
	}
	return nil
}

func validRoles(roles map[string]string) error {
	for project, role := range roles {
		if err := validate.Name("project_id", project, true); err != nil {
			return err
		}
		if !slices.Contains(TokenRoles, role) {
			return fmt.Errorf("role %q on project %q is not one of %v", role, project, TokenRoles)
		}
	}
	return nil
}

func (f *FSM) applyCreateUser(ac *applyCtx, c *CreateUser) (*Result, error) {
	u := c.User
	prev, err := usersTable.get(ac.tx, u.ID)
	if err != nil {
		return nil, err
	}
	same, err := userByName(ac.tx, u.Domain, u.Name)
	if err != nil {
		return nil, err
	}
	if prev != nil || same != nil {
		return failResult(ac, -1, "user %s (%s): %w", u.Name, u.ID, ErrExists), nil
	}
	u.stamp(ac, nil)
	return withRecord(okResult(ac), &u), usersTable.put(ac, &u, nil)
}

func (f *FSM) applyUpdateUser(ac *applyCtx, c *UpdateUser) (*Result, error) {
	prev, err := usersTable.get(ac.tx, c.ID)
	if err != nil {
		return nil, err
	}
	if prev == nil {
		return failResult(ac, -1, "user %s: %w", c.ID, ErrNotFound), nil
	}
	u := *prev.(*User)
	if c.PasswordHash != nil {
		u.PasswordHash = *c.PasswordHash
	}
	if c.Roles != nil {
		u.Roles = *c.Roles
	}
	u.stamp(ac, prev)
	if err := revokeUserTokens(ac, u.ID); err != nil {
		return nil, err
	}
	return withRecord(okResult(ac), &u), usersTable.put(ac, &u, prev)
}

func (f *FSM) applyDeleteUser(ac *applyCtx, c *DeleteUser) (*Result, error) {
	prev, err := usersTable.get(ac.tx, c.ID)
	if err != nil {
		return nil, err
	}
	if prev == nil {
		return failResult(ac, -1, "user %s: %w", c.ID, ErrNotFound), nil
	}
	if err := revokeUserTokens(ac, c.ID); err != nil {
		return nil, err
	}
	return okResult(ac), usersTable.del(ac, prev)
}

// revokeUserTokens deletes the tokens issued to a user (a scan of the tokens: there are few
// besides the users' own).
func revokeUserTokens(ac *applyCtx, user string) error {
	ts, err := listAs[*ACLToken](ac.tx, tokensTable, func(t *ACLToken) bool { return t.UserID == user })
	for _, t := range ts {
		if err != nil {
			break
		}
		err = tokensTable.del(ac, t)
	}
	return err
}

func userByName(tx *bolt.Tx, domain, name string) (*User, error) {
	var key string
	err := scanIndex(tx, &usersTable.indexes[0], userNameKey(domain, name), nil, func(k string) (bool, error) { key = k; return false, nil })
	if err != nil || key == "" {
		return nil, err
	}
	r, err := usersTable.get(tx, key)
	if r == nil || err != nil {
		return nil, err
	}
	return r.(*User), nil
}

// User returns a user by id (ErrNotFound when unknown).
func (r *Reader) User(id string) (*User, error) { return getAs[*User](r.tx, usersTable, id) }

// UserByName returns the user called name in domain (ErrNotFound when unknown).
func (r *Reader) UserByName(domain, name string) (*User, error) {
	u, err := userByName(r.tx, domain, name)
	if err == nil && u == nil {
		err = fmt.Errorf("user %q: %w", name, ErrNotFound)
	}
	return u, err
}

// Users returns every user, by id.
func (r *Reader) Users() ([]*User, error) { return listAs[*User](r.tx, usersTable, nil) }
