package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/transport"
	"github.com/gorilla/mux"
)

// routes registers every route of the API in one place.
func (s *Service) routes() *mux.Router {
	r := mux.NewRouter()
	// The identity of a verified client certificate (HTTPS) goes in the request's context:
	// transport.IdentityFromContext.
	r.Use(transport.WithPeerIdentity)
	r.Use(s.withTimeout)
	r.NotFoundHandler = s.audited("(no route)", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fail(w, http.StatusNotFound, api.CodeNoSuchEndpoint, "no such endpoint")
	}))
	r.MethodNotAllowedHandler = s.audited("(method not allowed)", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fail(w, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, "method not allowed on this endpoint")
	}))

	// Full paths on the root router: gorilla/mux subrouters answer 404 instead of 405 when
	// several routes share a path. Every route says which permission it needs (package acl):
	// handle is the only way to add one.
	const v1 = "/v1"
	read, servers, operate, admin := acl.PermRead, acl.PermServers, acl.PermOperate, acl.PermAdmin
	// The lookup path first: gorilla/mux tries routes in order.
	s.handle(r, http.MethodGet, v1+"/instance-mappings/{uuid}", read, s.getInstanceMapping)
	s.handle(r, http.MethodPut, v1+"/instance-mappings/{uuid}", servers, s.putInstanceMapping)
	s.handle(r, http.MethodDelete, v1+"/instance-mappings/{uuid}", servers, s.deleteInstanceMapping)
	s.handle(r, http.MethodGet, v1+"/instance-mappings", read, s.listInstanceMappings)
	s.handle(r, http.MethodGet, v1+"/cells", read, s.listCells)
	s.handle(r, http.MethodPost, v1+"/cells", operate, s.createCell)
	s.handle(r, http.MethodPost, v1+"/cells/cell0", operate, s.mapCell0)
	s.handle(r, http.MethodGet, v1+"/cells/{uuid}", read, s.getCell)
	s.handle(r, http.MethodPatch, v1+"/cells/{uuid}", operate, s.updateCell)
	s.handle(r, http.MethodDelete, v1+"/cells/{uuid}", operate, s.deleteCell)

	s.dataPlaneRoutes(r)

	s.handle(r, http.MethodGet, v1+"/hosts", read, s.listHosts)
	s.handle(r, http.MethodGet, v1+"/hosts/{host}", read, s.getHost)
	s.handle(r, http.MethodPut, v1+"/hosts/{host}", operate, s.putHost)
	s.handle(r, http.MethodDelete, v1+"/hosts/{host}", operate, s.deleteHost)

	// Instance-mapping transactions need servers; one that touches host mappings needs operate
	// (checked by the handler).
	s.handle(r, http.MethodPost, v1+"/txn", servers, s.txn)

	s.handle(r, http.MethodGet, v1+"/flavors", read, s.listFlavors)
	s.handle(r, http.MethodPost, v1+"/flavors", operate, s.createFlavor)
	s.handle(r, http.MethodGet, v1+"/flavors/{id}", read, s.getFlavor)
	s.handle(r, http.MethodDelete, v1+"/flavors/{id}", operate, s.deleteFlavor)
	s.imageRoutes(r)

	s.handle(r, http.MethodGet, watchPath, read, s.watch)
	s.handle(r, http.MethodPost, watchPath, read, s.watchMany)

	s.handle(r, http.MethodGet, v1+"/cluster/status", read, s.clusterStatus)
	s.handle(r, http.MethodPost, v1+"/cluster/join", admin, s.clusterJoin)
	s.handle(r, http.MethodDelete, v1+"/cluster/servers/{id}", admin, s.clusterRemove)

	s.aclRoutes(r)
	s.userRoutes(r)
	s.operatorRoutes(r)
	s.keyringRoutes(r)
	s.aggregateRoutes(r)
	s.serverGroupRoutes(r)
	s.metricsRoute(r)
	s.quotaRoutes(r)
	s.autopilotRoutes(r)
	s.mountRoutes(r)

	s.handle(r, http.MethodGet, "/healthz", acl.PermPublic, s.healthz)
	s.handle(r, http.MethodGet, "/readyz", acl.PermPublic, s.readyz)
	if s.cfg.Faults != nil {
		s.handle(r, http.MethodPost, "/internal/faults", admin, s.faultHandler(s.cfg.Faults))
	}
	internal := s.node.InternalHandler()
	s.perms["* /internal/"] = admin // node certificates or admin tokens (guardInternal)
	r.PathPrefix("/internal/").Name("* /internal/").Handler(s.audited("/internal/*", s.guardInternal(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set(api.HeaderIndex, strconv.FormatUint(s.node.AppliedIndex(), 10))
		internal.ServeHTTP(w, req)
	}))))
	return r
}

// handle registers a route with the permission its callers need; its name ("METHOD path")
// keys Permissions.
func (s *Service) handle(r *mux.Router, method, path string, perm acl.Perm, h http.HandlerFunc) {
	if method == http.MethodGet && strings.HasPrefix(path, "/v1/") && blockingKinds[method+" "+path] == nil {
		h = s.refuseBlocking(h)
	}
	s.mount(r, method, path, perm, s.guard(perm, h))
}

// mount adds a route whose handler checks perm itself (handle's guard, or its own).
func (s *Service) mount(r *mux.Router, method, path string, perm acl.Perm, guarded http.HandlerFunc) {
	name := method + " " + path
	s.perms[name] = perm
	var hh http.Handler = s.audited(path, guarded)
	if s.cfg.Routes != nil {
		hh = s.cfg.Routes.Route(method, path)(hh)
	}
	r.Handle(path, hh).Methods(method).Name(name)
}

// Permissions returns the permission of every route, by route name ("METHOD path").
func (s *Service) Permissions() map[string]acl.Perm {
	out := make(map[string]acl.Perm, len(s.perms))
	for k, v := range s.perms {
		out[k] = v
	}
	return out
}
