package httpapi

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
)

// permission: reader — GET /v1/operator/autopilot/health needs the reader role.

// Autopilot reports the leader's autopilot state (a *node.Node).
type Autopilot interface {
	AutopilotHealth(ctx context.Context) (*api.AutopilotHealth, error)
}

// autopilotRoutes registers the autopilot endpoint when the API has an Autopilot.
func (s *Service) autopilotRoutes(r *mux.Router) {
	if s.cfg.Autopilot == nil {
		return
	}
	s.handle(r, http.MethodGet, operatorPrefix+"autopilot/health", acl.PermRead, s.autopilotHealth)
}

// autopilotHealth answers the leader's autopilot view of every server (any node: a follower
// asks the leader); 404 autopilot_disabled when the leader does not run autopilot.
func (s *Service) autopilotHealth(w http.ResponseWriter, r *http.Request) {
	h, err := s.cfg.Autopilot.AutopilotHealth(r.Context())
	if err != nil {
		s.failErr(w, err)
		return
	}
	s.reply(w, http.StatusOK, s.node.AppliedIndex(), h)
}
