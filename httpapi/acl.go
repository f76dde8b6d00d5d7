package httpapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
	"github.com/gorilla/mux"
)

// aclRoutes registers the token endpoints: the bootstrap is the one write without a token.
func (s *Service) aclRoutes(r *mux.Router) {
	s.handle(r, http.MethodPost, "/v1/acl/bootstrap", acl.PermPublic, s.aclBootstrap)
	s.handle(r, http.MethodPost, "/v1/acl/tokens", acl.PermAdmin, s.createToken)
	s.handle(r, http.MethodGet, "/v1/acl/tokens", acl.PermAdmin, s.listTokens)
	s.handle(r, http.MethodDelete, "/v1/acl/tokens/{accessor}", acl.PermAdmin, s.revokeToken)
	s.handle(r, http.MethodGet, "/v1/acl/token/self", acl.PermRead, s.tokenSelf)
}

// NewToken makes a token record and its secret; the record holds only the secret's hash.
func NewToken(role acl.Role, description, project string, ttl time.Duration, now time.Time) (fsm.ACLToken, string, error) {
	secret, err := acl.NewSecret()
	if err != nil {
		return fsm.ACLToken{}, "", err
	}
	t := fsm.ACLToken{AccessorID: api.NewUUID(), SecretHash: acl.Hash(secret), Description: description,
		Role: role.String(), ProjectID: project}
	if ttl > 0 {
		t.ExpiresAt = now.Add(ttl).UTC()
	}
	return t, secret, nil
}

// TokenOut is a token as the API shows it (never its hash).
func TokenOut(t *fsm.ACLToken, secret string) api.Token {
	out := api.Token{AccessorID: t.AccessorID, Secret: secret, Description: t.Description, Role: t.Role,
		ProjectID: t.ProjectID, CreatedAt: t.CreatedAt, Revision: t.Revision}
	if !t.ExpiresAt.IsZero() {
		e := t.ExpiresAt
		out.ExpiresAt = &e
	}
	return out
}

func (s *Service) aclBootstrap(w http.ResponseWriter, r *http.Request) {
	t, secret, err := NewToken(acl.RoleAdmin, "bootstrap admin token", "", 0, time.Now())
	if err != nil {
		s.failErr(w, err)
		return
	}
	res, ok := s.applied(w, r, &fsm.ACLBootstrap{Token: t}, false)
	if !ok {
		return
	}
	s.logger.Info("ACL bootstrapped", "accessor_id", t.AccessorID)
	s.reply(w, http.StatusOK, res.Index, TokenOut(res.Record.(*fsm.ACLToken), secret))
}

func (s *Service) createToken(w http.ResponseWriter, r *http.Request) {
	var req api.TokenCreate
	if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.failErr(w, err)
		return
	}
	role, err := acl.ParseRole(req.Role)
	var ttl time.Duration
	if err == nil && req.TTL != "" {
		if ttl, err = time.ParseDuration(req.TTL); err == nil && ttl <= 0 {
			err = fmt.Errorf("ttl must be positive")
		}
	}
	if err != nil {
		s.failErr(w, invalidf("%v", err))
		return
	}
	t, secret, err := NewToken(role, req.Description, req.ProjectID, ttl, time.Now())
	if err != nil {
		s.failErr(w, err)
		return
	}
	if err := (&fsm.TokenCreate{Token: t}).Validate(); err != nil {
		s.failErr(w, invalidf("%v", err))
		return
	}
	res, ok := s.applied(w, r, &fsm.TokenCreate{Token: t}, false)
	if !ok {
		return
	}
	s.logger.Info("token created", "accessor_id", t.AccessorID, "role", t.Role, "by", IdentityFrom(r.Context()).AccessorID)
	s.reply(w, http.StatusCreated, res.Index, TokenOut(res.Record.(*fsm.ACLToken), secret))
}

func (s *Service) listTokens(w http.ResponseWriter, r *http.Request) {
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		ts, err := rd.Tokens()
		out := api.TokenList{Tokens: []api.Token{}}
		for _, t := range ts {
			out.Tokens = append(out.Tokens, TokenOut(t, ""))
		}
		return out, err
	})
}

// revokeToken deletes a token and returns once every node refuses it (RevokeWait).
func (s *Service) revokeToken(w http.ResponseWriter, r *http.Request) {
	accessor := mux.Vars(r)["accessor"]
	res, ok := s.applied(w, r, &fsm.TokenDelete{AccessorID: accessor}, false)
	if !ok {
		return
	}
	if s.cfg.Revoked != nil {
		s.cfg.Revoked(r.Context(), res.Index, s.cfg.AuthLease)
	}
	s.logger.Info("token revoked", "accessor_id", accessor, "by", IdentityFrom(r.Context()).AccessorID)
	w.Header().Set(api.HeaderIndex, fmt.Sprint(res.Index))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) tokenSelf(w http.ResponseWriter, r *http.Request) {
	id := IdentityFrom(r.Context())
	if id.AccessorID == "" {
		s.fail(w, http.StatusNotFound, api.CodeNotFound, "this identity is a node certificate, not a token")
		return
	}
	var tok *fsm.ACLToken
	info, err := s.node.Read(r.Context(), node.LocalUnchecked{}, func(rd *fsm.Reader) error {
		var err error
		tok, err = rd.Token(id.AccessorID)
		return err
	})
	if err != nil {
		s.failErr(w, err)
		return
	}
	s.reply(w, http.StatusOK, info.Index, TokenOut(tok, ""))
}
