package identity

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/node"
)

// keystoneTime is how Keystone writes a token's times.
func keystoneTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

var defaultDomain = map[string]string{"id": fsm.DefaultDomain, "name": "Default"}

// tokenBody is Keystone v3's token body for tok, issued to user (nil when the token was not
// issued by this API: the token's own description stands for the user).
func (s *Service) tokenBody(r *http.Request, tok *fsm.ACLToken, user *fsm.User) map[string]any {
	u := map[string]any{"id": tok.AccessorID, "name": tok.Description, "domain": defaultDomain, "password_expires_at": nil}
	if user != nil {
		u["id"], u["name"] = user.ID, user.Name
	}
	body := map[string]any{
		"methods":   []string{"password"},
		"user":      u,
		"audit_ids": []string{auditID(tok.AccessorID)},
		"issued_at": keystoneTime(tok.CreatedAt),
		"roles":     roleList(tok.Role),
		"catalog":   s.catalog(origin(r)),
	}
	if !tok.ExpiresAt.IsZero() {
		body["expires_at"] = keystoneTime(tok.ExpiresAt)
	} else {
		body["expires_at"] = nil
	}
	project := tok.ProjectID
	if project == "" {
		project = tok.UserProject
	}
	if project != "" {
		body["project"] = map[string]any{"id": project, "name": project, "domain": defaultDomain}
		body["is_domain"] = false
	} else {
		body["system"] = map[string]bool{"all": true}
	}
	return map[string]any{"token": body}
}

// roleList is the token's role and the roles it includes, as Keystone lists implied roles.
func roleList(role string) []map[string]string {
	out := []map[string]string{}
	r, err := acl.ParseRole(role)
	for ; err == nil && r > acl.RoleNone; r-- {
		out = append(out, map[string]string{"id": r.String(), "name": r.String()})
	}
	return out
}

// auditID is the token's audit id: its accessor id's 16 bytes, base64url as Keystone's.
func auditID(accessor string) string {
	b, err := hex.DecodeString(strings.ReplaceAll(accessor, "-", ""))
	if err != nil {
		b = []byte(accessor)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// catalog lists the compute, image and identity endpoints of the node at base, on every
// interface, in the configured region.
func (s *Service) catalog(base string) []map[string]any {
	entry := func(typ, name, url string) map[string]any {
		var eps []map[string]string
		for _, iface := range []string{"public", "internal", "admin"} {
			eps = append(eps, map[string]string{"id": name + "-" + iface, "interface": iface, "region": s.cfg.Region,
				"region_id": s.cfg.Region, "url": url})
		}
		return map[string]any{"id": name, "type": typ, "name": name, "endpoints": eps}
	}
	compute := base + s.cfg.ComputePrefix + "/v2.1"
	if s.cfg.ComputePort != "" {
		compute = onPort(base, s.cfg.ComputePort) + "/v2.1"
	}
	return []map[string]any{
		entry("compute", "nova", compute),
		entry("image", "glance", base+s.cfg.ImagePrefix),
		entry("identity", "keystone", base+s.cfg.Prefix+"/v3"),
	}
}

// onPort is base ("scheme://host[:port]") with its port replaced by port.
func onPort(base, port string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Host = net.JoinHostPort(u.Hostname(), port)
	return u.String()
}

// subject returns the token a validate or revoke request is about, with the token and user it
// resolves to. A caller below admin may only ask about its own token.
func (s *Service) subject(r *http.Request) (*fsm.ACLToken, *fsm.User, error) {
	secret := strings.TrimSpace(r.Header.Get("X-Subject-Token"))
	if secret == "" {
		return nil, nil, authErr(http.StatusBadRequest, "X-Subject-Token is required.")
	}
	caller := httpapi.IdentityFrom(r.Context())
	if caller.Role < acl.RoleAdmin && subtle.ConstantTimeCompare([]byte(secret), []byte(callerToken(r))) != 1 {
		return nil, nil, authErr(http.StatusForbidden, "A %s token may only validate or revoke itself.", caller.Role)
	}
	notFound := authErr(http.StatusNotFound, "Could not find token.")
	if !acl.WellFormed(secret) {
		return nil, nil, notFound
	}
	var tok *fsm.ACLToken
	var user *fsm.User
	_, err := s.cfg.Store.Read(r.Context(), node.Linearizable{}, func(rd *fsm.Reader) error {
		var err error
		if tok, err = rd.TokenByHash(acl.Hash(secret)); err != nil || tok.UserID == "" {
			return err
		}
		user, err = rd.User(tok.UserID)
		return err
	})
	switch {
	case errors.Is(err, fsm.ErrNotFound):
		return nil, nil, notFound
	case err != nil:
		return nil, nil, err
	case !tok.ExpiresAt.IsZero() && !time.Now().Before(tok.ExpiresAt):
		return nil, nil, notFound
	}
	return tok, user, nil
}

// callerToken is the token the request authenticated with.
func callerToken(r *http.Request) string {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return strings.TrimSpace(r.Header.Get("X-Auth-Token"))
}

// validate is GET /identity/v3/auth/tokens: the body of the token in
// X-Subject-Token, 404 when it is unknown, revoked or expired.
func (s *Service) validate(w http.ResponseWriter, r *http.Request) {
	tok, user, err := s.subject(r)
	if err != nil {
		s.answerErr(w, err)
		return
	}
	w.Header().Set("X-Subject-Token", r.Header.Get("X-Subject-Token"))
	writeJSON(w, http.StatusOK, s.tokenBody(r, tok, user))
}

// revoke is DELETE /identity/v3/auth/tokens: the token in X-Subject-Token is revoked; 204 once
// every node refuses it (Config.Revoked).
func (s *Service) revoke(w http.ResponseWriter, r *http.Request) {
	tok, _, err := s.subject(r)
	if err != nil {
		s.answerErr(w, err)
		return
	}
	res, err := s.cfg.Store.Apply(r.Context(), &fsm.TokenDelete{AccessorID: tok.AccessorID})
	if err == nil {
		err = res.Err
	}
	if err != nil {
		s.answerErr(w, err)
		return
	}
	if s.cfg.Revoked != nil {
		s.cfg.Revoked(r.Context(), res.Index)
	}
	s.logger.Info("token revoked", "accessor_id", tok.AccessorID, "by", httpapi.IdentityFrom(r.Context()).AccessorID)
	w.WriteHeader(http.StatusNoContent)
}
