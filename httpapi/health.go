package httpapi

import (
	"net/http"
	"time"

	"github.com/cellmap/cellmap/api"
)

// healthz is liveness: the process answers HTTP.
func (s *Service) healthz(w http.ResponseWriter, _ *http.Request) {
	s.reply(w, http.StatusOK, s.node.AppliedIndex(), api.Health{Status: "ok"})
}

// readyz is readiness (see ready): 200 {"status":"ok"}, else 503 with the reason.
func (s *Service) readyz(w http.ResponseWriter, _ *http.Request) {
	if ok, reason := s.ready(time.Now()); !ok {
		s.reply(w, http.StatusServiceUnavailable, s.node.AppliedIndex(), api.Health{Status: "not ready", Reason: reason})
		return
	}
	s.reply(w, http.StatusOK, s.node.AppliedIndex(), api.Health{Status: "ok"})
}

// ready reports whether this node should get traffic at now: the node knows a leader and its
// state is caught up (Node.Ready), and, with TLS, the served certificate is loaded and within
// its validity period. reason is "" when ready.
func (s *Service) ready(now time.Time) (bool, string) {
	if s.cfg.Certificate != nil {
		switch c := s.cfg.Certificate(); {
		case c == nil:
			return false, "no TLS certificate loaded"
		case now.Before(c.NotBefore):
			return false, "the TLS certificate is not valid before " + c.NotBefore.UTC().Format(time.RFC3339)
		case now.After(c.NotAfter):
			return false, "the TLS certificate expired at " + c.NotAfter.UTC().Format(time.RFC3339)
		}
	}
	if ok, reason := s.node.Ready(); !ok {
		return false, reason
	}
	return true, ""
}
