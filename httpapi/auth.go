package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
	"github.com/cellmap/cellmap/transport"
)

type identityKey struct{}

// IdentityFrom returns who the request acts as (nil on public endpoints).
func IdentityFrom(ctx context.Context) *acl.Identity {
	id, _ := ctx.Value(identityKey{}).(*acl.Identity)
	return id
}

// bearer returns the token of a request: Authorization: Bearer T, else X-Auth-Token: T (as
// OpenStack clients send it).
func bearer(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	return strings.TrimSpace(r.Header.Get("X-Auth-Token"))
}

// authenticate resolves a request's token to an identity; nil, nil when it carries none. A
// token is judged from this node's state only once the node is fresh enough (node.AuthFresh),
// so a revoke that returned is seen everywhere.
func (s *Service) authenticate(r *http.Request) (*acl.Identity, error) {
	secret := bearer(r)
	if secret == "" {
		return nil, nil
	}
	if !acl.WellFormed(secret) {
		if s.cfg.ExternalTokens != nil {
			return s.externalIdentity(r.Context(), secret)
		}
		return nil, fmt.Errorf("%w: not a cellmap token", acl.ErrUnauthenticated)
	}
	if err := s.node.AuthFresh(r.Context(), s.cfg.AuthLease); err != nil {
		return nil, err
	}
	hash := acl.Hash(secret)
	var tok *fsm.ACLToken
	lookup := func(rd *fsm.Reader) error {
		var err error
		tok, err = rd.TokenByHash(hash)
		return err
	}
	// LocalUnchecked: AuthFresh just made this node's state fresh enough for revokes. A token
	// created a moment ago may not have reached this node yet: an unknown one is looked up
	// again after a linearizable barrier, so a new token works at once on every node.
	_, err := s.node.Read(r.Context(), node.LocalUnchecked{}, lookup)
	if errors.Is(err, fsm.ErrNotFound) {
		_, err = s.node.Read(r.Context(), node.Linearizable{}, lookup)
	}
	switch {
	case errors.Is(err, fsm.ErrNotFound):
		return nil, fmt.Errorf("%w: unknown or revoked token", acl.ErrUnauthenticated)
	case err != nil:
		return nil, err
	case !acl.SameHash(tok.SecretHash, hash):
		return nil, fmt.Errorf("%w: unknown or revoked token", acl.ErrUnauthenticated)
	case !tok.ExpiresAt.IsZero() && !time.Now().Before(tok.ExpiresAt):
		return nil, fmt.Errorf("%w: the token expired at %s", acl.ErrUnauthenticated, tok.ExpiresAt.Format(time.RFC3339))
	}
	role, err := acl.ParseRole(tok.Role)
	if err != nil {
		return nil, err
	}
	id := &acl.Identity{AccessorID: tok.AccessorID, Description: tok.Description, Role: role,
		ProjectID: tok.ProjectID, UserID: tok.UserID, ExpiresAt: tok.ExpiresAt}
	if tok.ProjectID == "" {
		id.HomeProject = tok.UserProject
	}
	return id, nil
}

// ExternalTokens judges tokens another service issued (Keystone's): an identity, an error
// wrapping acl.ErrUnauthenticated or acl.ErrForbidden, or any other error when the issuer
// cannot be asked (503).
type ExternalTokens interface {
	Identify(ctx context.Context, token string) (*acl.Identity, error)
}

// errIdentityUnavailable: the external issuer could not judge a token (503 unavailable).
var errIdentityUnavailable = errors.New("the identity service is unavailable")

func (s *Service) externalIdentity(ctx context.Context, token string) (*acl.Identity, error) {
	id, err := s.cfg.ExternalTokens.Identify(ctx, token)
	if err != nil && !errors.Is(err, acl.ErrUnauthenticated) && !errors.Is(err, acl.ErrForbidden) {
		return nil, fmt.Errorf("%w: %v", errIdentityUnavailable, err)
	}
	return id, err
}

// guard authenticates and authorizes a request for perm before h runs (guardWith), answering
// refusals with the API's error body.
func (s *Service) guard(perm acl.Perm, h http.HandlerFunc) http.HandlerFunc {
	return s.guardWith(perm, h, nil)
}

// guardInternal admits node-to-node requests: a client certificate of a cluster node (TLS)
// or an admin token.
func (s *Service) guardInternal(h http.Handler) http.HandlerFunc {
	admin := s.guard(acl.PermAdmin, h.ServeHTTP)
	return func(w http.ResponseWriter, r *http.Request) {
		if id, ok := transport.IdentityFromContext(r.Context()); ok && id.Kind == transport.KindNode {
			node := &acl.Identity{Role: acl.RoleAdmin, Node: id.Name}
			setSubject(r.Context(), node)
			h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, node)))
			return
		}
		admin(w, r)
	}
}

func (s *Service) authFailed(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, acl.ErrUnauthenticated):
		w.Header().Set("WWW-Authenticate", `Bearer realm="cellmap"`)
		s.fail(w, http.StatusUnauthorized, api.CodeUnauthenticated, err.Error())
	case errors.Is(err, acl.ErrForbidden):
		s.fail(w, http.StatusForbidden, api.CodeForbidden, err.Error())
	default:
		s.failErr(w, err)
	}
}
