package httpapi

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/transport"
)

// RouteObserver instruments each route by its template (a *metrics.Registry).
type RouteObserver interface {
	Route(method, template string) func(http.Handler) http.Handler
}

// metricsRoute serves GET /metrics (Config.Metrics): a reader token, or, with
// MetricsClientCerts, any client certificate of the cluster CA (Prometheus can present one or
// send a bearer token file).
func (s *Service) metricsRoute(r *mux.Router) {
	if s.cfg.Metrics == nil {
		return
	}
	reader := s.guard(acl.PermRead, s.cfg.Metrics.ServeHTTP)
	s.mount(r, http.MethodGet, "/metrics", acl.PermRead, func(w http.ResponseWriter, req *http.Request) {
		if id, ok := transport.IdentityFromContext(req.Context()); ok && s.cfg.MetricsClientCerts {
			who := &acl.Identity{Role: acl.RoleReader, Node: id.Name}
			setSubject(req.Context(), who)
			s.cfg.Metrics.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), identityKey{}, who)))
			return
		}
		reader(w, req)
	})
}
