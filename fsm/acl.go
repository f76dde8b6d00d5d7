package fsm

import (
	"errors"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/api/validate"
	bolt "go.etcd.io/bbolt"
)

// ACL tokens (log version 2). A token is stored by its accessor id with the SHA-256 of its
// secret (hex); the secret itself never reaches the log or the state: the proposer hashes it.

// TokenRoles are the roles a token may have, each including the ones before it (package acl
// gives them meaning).
var TokenRoles = []string{"reader", "service", "operator", "admin"}

// ErrACLBootstrapped: the ACL of this cluster was bootstrapped already.
var ErrACLBootstrapped = errors.New("the ACL was bootstrapped already")

// Command types of the ACL.
const (
	CmdACLBootstrap CommandType = 9
	CmdTokenCreate  CommandType = 10
	CmdTokenDelete  CommandType = 11
)

// ACLToken is a token's record.
type ACLToken struct {
	AccessorID  string
	SecretHash  string // hex SHA-256 of the secret
	Description string
	Role        string
	ProjectID   string    // "" unscoped
	ExpiresAt   time.Time // zero: never
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Revision    uint64
	// UserID and UserProject (log version 5) name the user of the built-in identity a token
	// was issued to and the project it asked for ("" for tokens made through /v1/acl/tokens).
	// An admin or operator token is unscoped (ProjectID ""), UserProject still says what the
	// user asked for. Updating or deleting the user revokes its tokens.
	UserID      string
	UserProject string
}

// ACLMarker is a named fact of the ACL's history (the bootstrap).
type ACLMarker struct {
	Name      string
	CreatedAt time.Time
	Revision  uint64
}

const markerBootstrapped = "bootstrapped"

var (
	tokensTable = &table{name: "acl_token", bucket: []byte("acl_tokens"), newRec: func() Record { return &ACLToken{} },
		indexes: []index{{bucket: []byte("acl_tokens_by_hash"), value: func(r Record) string { return r.(*ACLToken).SecretHash }}}}
	aclMarkersTable = &table{name: "acl_marker", bucket: []byte("acl_markers"), newRec: func() Record { return &ACLMarker{} }}
)

// ACLBootstrap creates the first (admin) token, once per cluster.
type ACLBootstrap struct{ Token ACLToken }

// TokenCreate creates a token; an accessor or secret already used is ErrExists.
type TokenCreate struct{ Token ACLToken }

// TokenDelete revokes a token.
type TokenDelete struct{ AccessorID string }

func (*ACLBootstrap) Type() CommandType      { return CmdACLBootstrap }
func (c *ACLBootstrap) marshal(e *encoder)   { c.Token.marshal(e) }
func (c *ACLBootstrap) unmarshal(d *decoder) { c.Token.unmarshal(d) }
func (c *ACLBootstrap) Validate() error {
	if c.Token.Role != "admin" || c.Token.ProjectID != "" {
		return fmt.Errorf("the bootstrap token is an unscoped admin token: %w", ErrInvalid)
	}
	return c.Token.validate()
}

func (*TokenCreate) Type() CommandType      { return CmdTokenCreate }
func (c *TokenCreate) marshal(e *encoder)   { c.Token.marshal(e) }
func (c *TokenCreate) unmarshal(d *decoder) { c.Token.unmarshal(d) }
func (c *TokenCreate) Validate() error      { return c.Token.validate() }

// contentVersion is 5 for a token of the built-in identity.
func (c *TokenCreate) contentVersion() uint64 {
	if c.Token.UserID != "" {
		return 5
	}
	return 2
}

func (*TokenDelete) Type() CommandType      { return CmdTokenDelete }
func (c *TokenDelete) marshal(e *encoder)   { e.str(c.AccessorID) }
func (c *TokenDelete) unmarshal(d *decoder) { c.AccessorID = d.str() }
func (c *TokenDelete) Validate() error      { return canonicalUUID("accessor_id", c.AccessorID) }

func (t *ACLToken) Key() string  { return t.AccessorID }
func (t *ACLToken) rev() uint64  { return t.Revision }
func (m *ACLMarker) Key() string { return m.Name }
func (m *ACLMarker) rev() uint64 { return m.Revision }

func (t *ACLToken) marshal(e *encoder) {
	e.str(t.AccessorID)
	e.str(t.SecretHash)
	e.str(t.Description)
	e.str(t.Role)
	e.str(t.ProjectID)
	e.timestamp(t.ExpiresAt)
	e.timestamp(t.CreatedAt)
	e.timestamp(t.UpdatedAt)
	e.uvarint(t.Revision)
	if t.UserID != "" {
		e.str(t.UserID)
		e.str(t.UserProject)
	}
}

func (t *ACLToken) unmarshal(d *decoder) {
	t.AccessorID, t.SecretHash, t.Description, t.Role, t.ProjectID = d.str(), d.str(), d.str(), d.str(), d.str()
	t.ExpiresAt, t.CreatedAt, t.UpdatedAt = d.timestamp(), d.timestamp(), d.timestamp()
	t.Revision = d.uvarint()
	if d.more() {
		t.UserID, t.UserProject = d.str(), d.str()
	}
}

func (t *ACLToken) stamp(ac *applyCtx, _ Record) {
	t.Revision, t.CreatedAt, t.UpdatedAt = ac.index, ac.now, ac.now
}

func (m *ACLMarker) marshal(e *encoder) {
	e.str(m.Name)
	e.timestamp(m.CreatedAt)
	e.uvarint(m.Revision)
}

func (m *ACLMarker) unmarshal(d *decoder) {
	m.Name, m.CreatedAt, m.Revision = d.str(), d.timestamp(), d.uvarint()
}

func (m *ACLMarker) stamp(ac *applyCtx, _ Record) { m.Revision, m.CreatedAt = ac.index, ac.now }

func (t *ACLToken) validate() error {
	if len(t.SecretHash) != 64 || !isLowerHex(t.SecretHash) {
		return fmt.Errorf("secret_hash must be 64 lower-case hex digits: %w", ErrInvalid)
	}
	known := false
	for _, r := range TokenRoles {
		known = known || r == t.Role
	}
	if !known {
		return fmt.Errorf("role %q is not one of %v: %w", t.Role, TokenRoles, ErrInvalid)
	}
	if t.ProjectID != "" && t.Role != "reader" && t.Role != "service" {
		return fmt.Errorf("only reader and service tokens can be scoped to a project: %w", ErrInvalid)
	}
	if t.UserID != "" {
		if err := canonicalUUID("user_id", t.UserID); err != nil {
			return err
		}
	} else if t.UserProject != "" {
		return fmt.Errorf("user_project needs a user_id: %w", ErrInvalid)
	}
	return firstError(canonicalUUID("accessor_id", t.AccessorID), validate.Name("description", t.Description, false),
		validate.Name("user_project", t.UserProject, false),
		validate.Name("project_id", t.ProjectID, false), validate.Time("expires_at", t.ExpiresAt))
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func (f *FSM) applyACLBootstrap(ac *applyCtx, c *ACLBootstrap) (*Result, error) {
	done, err := aclMarkersTable.get(ac.tx, markerBootstrapped)
	if err != nil {
		return nil, err
	}
	if done != nil {
		return failResult(ac, -1, "bootstrapped at index %d: %w", done.rev(), ErrACLBootstrapped), nil
	}
	res, err := f.putToken(ac, c.Token)
	if err != nil || res.Err != nil {
		return res, err
	}
	m := &ACLMarker{Name: markerBootstrapped}
	m.stamp(ac, nil)
	return res, aclMarkersTable.put(ac, m, nil)
}

func (f *FSM) applyTokenCreate(ac *applyCtx, c *TokenCreate) (*Result, error) {
	return f.putToken(ac, c.Token)
}

func (f *FSM) putToken(ac *applyCtx, t ACLToken) (*Result, error) {
	prev, err := tokensTable.get(ac.tx, t.AccessorID)
	if err != nil {
		return nil, err
	}
	same, err := tokenByHash(ac.tx, t.SecretHash)
	if err != nil {
		return nil, err
	}
	if prev != nil || same != nil {
		return failResult(ac, -1, "token %s: %w", t.AccessorID, ErrExists), nil
	}
	t.stamp(ac, nil)
	return withRecord(okResult(ac), &t), tokensTable.put(ac, &t, nil)
}

func (f *FSM) applyTokenDelete(ac *applyCtx, c *TokenDelete) (*Result, error) {
	prev, err := tokensTable.get(ac.tx, c.AccessorID)
	if err != nil {
		return nil, err
	}
	if prev == nil {
		return failResult(ac, -1, "token %s: %w", c.AccessorID, ErrNotFound), nil
	}
	return okResult(ac), tokensTable.del(ac, prev)
}

func tokenByHash(tx *bolt.Tx, hash string) (*ACLToken, error) {
	var key string
	err := scanIndex(tx, &tokensTable.indexes[0], hash, nil, func(k string) (bool, error) { key = k; return false, nil })
	if err != nil || key == "" {
		return nil, err
	}
	r, err := tokensTable.get(tx, key)
	if r == nil || err != nil {
		return nil, err
	}
	return r.(*ACLToken), nil
}

// TokenByHash returns the token whose secret hashes to hash (hex SHA-256), ErrNotFound if none.
func (r *Reader) TokenByHash(hash string) (*ACLToken, error) {
	t, err := tokenByHash(r.tx, hash)
	if err == nil && t == nil {
		err = fmt.Errorf("token: %w", ErrNotFound)
	}
	return t, err
}

// Token returns a token by accessor id (ErrNotFound when unknown).
func (r *Reader) Token(accessor string) (*ACLToken, error) {
	return getAs[*ACLToken](r.tx, tokensTable, accessor)
}

// Tokens returns every token, by accessor id.
func (r *Reader) Tokens() ([]*ACLToken, error) { return listAs[*ACLToken](r.tx, tokensTable, nil) }

// ACLBootstrapped reports whether the ACL was bootstrapped.
func (r *Reader) ACLBootstrapped() (bool, error) {
	m, err := aclMarkersTable.get(r.tx, markerBootstrapped)
	return m != nil, err
}
