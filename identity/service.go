package identity

import (
	"encoding/json"
	"net/http"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/hashicorp/go-hclog"
)

// Service is the identity API of one node.
type Service struct {
	cfg    Config
	logger hclog.Logger
	// dummy is a hash of a random password, checked for unknown users.
	dummy string
	// checks holds a slot per password check running.
	checks chan struct{}
}

// New builds the identity API.
func New(cfg *Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	secret, err := acl.NewSecret()
	if err != nil {
		return nil, err
	}
	dummy, err := acl.HashPassword(secret, cfg.HashParams)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: *cfg, logger: cfg.Logger, dummy: dummy, checks: make(chan struct{}, cfg.MaxConcurrentChecks)}
	if s.logger == nil {
		s.logger = hclog.NewNullLogger()
	}
	return s, nil
}

// Mount returns the routes for httpapi: discovery and authentication are public; validating
// and revoking a token needs a token (any role: one's own token, or any token as admin).
func (s *Service) Mount() httpapi.Mount {
	p, v3 := s.cfg.Prefix, s.cfg.Prefix+"/v3"
	return httpapi.Mount{Refuse: refuse, Routes: []httpapi.Route{
		{Method: http.MethodGet, Path: p, Perm: acl.PermPublic, Handler: s.versions},
		{Method: http.MethodGet, Path: p + "/", Perm: acl.PermPublic, Handler: s.versions},
		{Method: http.MethodGet, Path: v3, Perm: acl.PermPublic, Handler: s.version},
		{Method: http.MethodGet, Path: v3 + "/", Perm: acl.PermPublic, Handler: s.version},
		{Method: http.MethodPost, Path: v3 + "/auth/tokens", Perm: acl.PermPublic, Handler: s.issue},
		{Method: http.MethodGet, Path: v3 + "/auth/tokens", Perm: acl.PermRead, Handler: s.validate},
		{Method: http.MethodDelete, Path: v3 + "/auth/tokens", Perm: acl.PermRead, Handler: s.revoke},
	}}
}

// Keystone's titles of its error statuses.
var titles = map[int]string{400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
	409: "Conflict", 413: "Request Entity Too Large", 503: "Service Unavailable"}

// msgUnauthorized is Keystone's message for every failed authentication.
const msgUnauthorized = "The request you have made requires authentication."

// keystoneError writes Keystone's error body: {"error": {"code", "title", "message"}}.
func keystoneError(w http.ResponseWriter, status int, msg string) {
	title := titles[status]
	if title == "" {
		title = http.StatusText(status)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Keystone uri="cellmap"`)
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "title": title, "message": msg}})
}

// refuse answers a request the guard refused, with Keystone's body.
func refuse(w http.ResponseWriter, _ *http.Request, status int, err error) {
	msg := err.Error()
	if status == http.StatusUnauthorized {
		msg = msgUnauthorized
	}
	keystoneError(w, status, msg)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// origin is the scheme and host the client used ("https://127.0.0.1:8480").
func origin(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}
