package identity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/node"
)

// maxAuthBody bounds a token request's body.
const maxAuthBody = 64 << 10

// authRequest is Keystone v3's POST /v3/auth/tokens body, password method.
type authRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User struct {
					ID       string     `json:"id"`
					Name     string     `json:"name"`
					Domain   *domainRef `json:"domain"`
					Password string     `json:"password"`
				} `json:"user"`
			} `json:"password"`
		} `json:"identity"`
		// Scope is an object, or the string "unscoped".
		Scope json.RawMessage `json:"scope"`
	} `json:"auth"`
}

type domainRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type scopeRequest struct {
	Project *struct {
		ID     string     `json:"id"`
		Name   string     `json:"name"`
		Domain *domainRef `json:"domain"`
	} `json:"project"`
	System *struct {
		All bool `json:"all"`
	} `json:"system"`
	Domain *domainRef `json:"domain"`
}

// isDefault reports whether d names the one domain: id "default" or name "Default".
func (d *domainRef) isDefault() bool {
	return d != nil && (d.ID == fsm.DefaultDomain || d.ID == "" && strings.EqualFold(d.Name, "Default"))
}

// errAuth is a refusal with Keystone's status and message.
type errAuth struct {
	status int
	msg    string
}

func (e *errAuth) Error() string { return e.msg }

func authErr(status int, format string, args ...any) error {
	return &errAuth{status: status, msg: fmt.Sprintf(format, args...)}
}

// errUnauthorized is every failed password authentication: unknown user, unknown domain and
// wrong password alike, so none tells which.
var errUnauthorized = &errAuth{status: http.StatusUnauthorized, msg: msgUnauthorized}

// issue is POST /identity/v3/auth/tokens: password authentication, a new cellmap token scoped
// as asked, 201 with the token in X-Subject-Token and Keystone's token body.
func (s *Service) issue(w http.ResponseWriter, r *http.Request) {
	req, err := decodeAuth(r)
	if err == nil {
		var user *fsm.User
		if user, err = s.authenticate(r, req); err == nil {
			err = s.issueFor(w, r, user, req.Auth.Scope)
		}
	}
	if err != nil {
		s.answerErr(w, err)
	}
}

func decodeAuth(r *http.Request) (*authRequest, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxAuthBody+1))
	if err != nil {
		return nil, authErr(http.StatusBadRequest, "could not read the request body: %v", err)
	}
	if len(raw) > maxAuthBody {
		return nil, authErr(http.StatusRequestEntityTooLarge, "the request body is larger than %d bytes", maxAuthBody)
	}
	var req authRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&req); err != nil {
		return nil, authErr(http.StatusBadRequest, "the request body is not valid JSON: %v", err)
	}
	id := &req.Auth.Identity
	if len(id.Methods) == 0 {
		return nil, authErr(http.StatusBadRequest, "Invalid input: auth.identity.methods is a required property.")
	}
	if !slices.Contains(id.Methods, "password") || id.Password == nil {
		return nil, authErr(http.StatusUnauthorized, "Attempted to authenticate with an unsupported method: only password is supported.")
	}
	u := &id.Password.User
	if u.ID == "" && u.Name == "" {
		return nil, authErr(http.StatusBadRequest, "Expecting to find id or name in user.")
	}
	if u.ID == "" && u.Domain == nil {
		return nil, authErr(http.StatusBadRequest, "Expecting to find domain in user.")
	}
	return &req, nil
}

// authenticate finds the user and checks its password; an unknown user is checked against a
// dummy hash, so it takes as long as a wrong password and answers the same.
func (s *Service) authenticate(r *http.Request, req *authRequest) (*fsm.User, error) {
	u := &req.Auth.Identity.Password.User
	var user *fsm.User
	if u.ID != "" || u.Domain.isDefault() {
		_, err := s.cfg.Store.Read(r.Context(), node.Linearizable{}, func(rd *fsm.Reader) error {
			var err error
			if u.ID != "" {
				user, err = rd.User(u.ID)
			} else {
				user, err = rd.UserByName(fsm.DefaultDomain, u.Name)
			}
			return err
		})
		if err != nil && !errors.Is(err, fsm.ErrNotFound) {
			return nil, err
		}
		if err != nil {
			user = nil
		}
	}
	hash := s.dummy
	if user != nil {
		hash = user.PasswordHash
	}
	select {
	case s.checks <- struct{}{}:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	err := acl.CheckPassword(u.Password, hash)
	<-s.checks
	if err != nil || user == nil {
		s.logger.Info("authentication refused", "user", logName(u.ID, u.Name), "remote", r.RemoteAddr)
		return nil, errUnauthorized
	}
	return user, nil
}

// logName is what the log says of a user a request names (its id or name, never a password).
func logName(id, name string) string {
	if id != "" {
		return id
	}
	return name
}

// scopeOf resolves the scope asked for: the project (its id; cellmap's projects are names and
// ids at once) and the user's role there, or system scope ("" project) for an admin.
func scopeOf(user *fsm.User, raw json.RawMessage) (project string, role acl.Role, err error) {
	var sc scopeRequest
	if t := bytes.TrimSpace(raw); len(t) > 0 && !bytes.Equal(t, []byte("null")) && !bytes.Equal(t, []byte(`"unscoped"`)) {
		if err := json.Unmarshal(t, &sc); err != nil {
			return "", 0, authErr(http.StatusBadRequest, "scope is not valid: %v", err)
		}
	}
	switch {
	case sc.Project != nil:
		project = sc.Project.ID
		if project == "" {
			if !sc.Project.Domain.isDefault() {
				return "", 0, authErr(http.StatusUnauthorized, "Could not find project %q in a domain other than Default: only the Default domain exists.", sc.Project.Name)
			}
			project = sc.Project.Name
		}
		name, ok := user.Roles[project]
		if !ok {
			return "", 0, authErr(http.StatusUnauthorized, "User %s has no access to project %s", user.ID, project)
		}
		role, err = acl.ParseRole(name)
		return project, role, err
	case sc.Domain != nil:
		return "", 0, authErr(http.StatusUnauthorized, "Domain scoped tokens are not supported: scope to a project, or to the system as an admin.")
	}
	// System scope, or no scope: an unscoped admin token for a user who is admin somewhere.
	for _, name := range user.Roles {
		if name == acl.RoleAdmin.String() {
			return "", acl.RoleAdmin, nil
		}
	}
	return "", 0, authErr(http.StatusUnauthorized, "User %s must scope its token to a project (only admins get system-scoped tokens).", user.ID)
}

// issueFor creates the user's token, scoped as asked, through the replicated log (as POST
// /v1/acl/tokens does), and answers it.
func (s *Service) issueFor(w http.ResponseWriter, r *http.Request, user *fsm.User, raw json.RawMessage) error {
	project, role, err := scopeOf(user, raw)
	if err != nil {
		return err
	}
	tokenProject := project
	if role > acl.RoleService {
		tokenProject = "" // operator and admin tokens are cloud-wide
	}
	now := time.Now()
	tok, secret, err := httpapi.NewToken(role, "identity user "+user.Name, tokenProject, s.cfg.TokenTTL, now)
	if err != nil {
		return err
	}
	tok.UserID, tok.UserProject = user.ID, project
	res, err := s.cfg.Store.Apply(r.Context(), &fsm.TokenCreate{Token: tok})
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return err
	}
	issued := res.Record.(*fsm.ACLToken)
	s.logger.Info("token issued", "user", user.ID, "accessor_id", issued.AccessorID, "role", issued.Role, "project", project)
	w.Header().Set("X-Subject-Token", secret)
	writeJSON(w, http.StatusCreated, s.tokenBody(r, issued, user))
	return nil
}

// answerErr answers a failed request with Keystone's body: its own refusals as they are, the
// state's errors by their kind.
func (s *Service) answerErr(w http.ResponseWriter, err error) {
	var ae *errAuth
	switch {
	case errors.As(err, &ae):
		keystoneError(w, ae.status, ae.msg)
	case errors.Is(err, fsm.ErrNotFound):
		keystoneError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, fsm.ErrInvalid):
		keystoneError(w, http.StatusBadRequest, err.Error())
	default:
		s.logger.Warn("identity request failed", "error", err)
		keystoneError(w, http.StatusServiceUnavailable, "the identity service cannot answer now: "+err.Error())
	}
}
