package httpapi

import (
	"net/http"
	"strconv"

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
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fail(w, http.StatusNotFound, api.CodeNoSuchEndpoint, "no such endpoint")
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fail(w, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, "method not allowed on this endpoint")
	})

	// Full paths on the root router: gorilla/mux subrouters answer 404 instead of 405 when
	// several routes share a path.
	v1 := &prefixed{r: r, prefix: "/v1"}
	// The lookup path first: gorilla/mux tries routes in order.
	v1.HandleFunc("/instance-mappings/{uuid}", s.getInstanceMapping).Methods(http.MethodGet)
	v1.HandleFunc("/instance-mappings/{uuid}", s.putInstanceMapping).Methods(http.MethodPut)
	v1.HandleFunc("/instance-mappings/{uuid}", s.deleteInstanceMapping).Methods(http.MethodDelete)
	v1.HandleFunc("/instance-mappings", s.listInstanceMappings).Methods(http.MethodGet)
	v1.HandleFunc("/cells", s.listCells).Methods(http.MethodGet)
	v1.HandleFunc("/cells", s.createCell).Methods(http.MethodPost)
	v1.HandleFunc("/cells/cell0", s.mapCell0).Methods(http.MethodPost)
	v1.HandleFunc("/cells/{uuid}", s.getCell).Methods(http.MethodGet)
	v1.HandleFunc("/cells/{uuid}", s.updateCell).Methods(http.MethodPatch)
	v1.HandleFunc("/cells/{uuid}", s.deleteCell).Methods(http.MethodDelete)

	s.dataPlaneRoutes(v1)

	v1.HandleFunc("/hosts", s.listHosts).Methods(http.MethodGet)
	v1.HandleFunc("/hosts/{host}", s.getHost).Methods(http.MethodGet)
	v1.HandleFunc("/hosts/{host}", s.putHost).Methods(http.MethodPut)
	v1.HandleFunc("/hosts/{host}", s.deleteHost).Methods(http.MethodDelete)

	v1.HandleFunc("/txn", s.txn).Methods(http.MethodPost)

	v1.HandleFunc("/flavors", s.listFlavors).Methods(http.MethodGet)
	v1.HandleFunc("/flavors", s.createFlavor).Methods(http.MethodPost)
	v1.HandleFunc("/flavors/{id}", s.getFlavor).Methods(http.MethodGet)
	v1.HandleFunc("/flavors/{id}", s.deleteFlavor).Methods(http.MethodDelete)

	v1.HandleFunc("/cluster/status", s.clusterStatus).Methods(http.MethodGet)
	v1.HandleFunc("/cluster/join", s.clusterJoin).Methods(http.MethodPost)
	v1.HandleFunc("/cluster/servers/{id}", s.clusterRemove).Methods(http.MethodDelete)

	s.operatorRoutes(v1)

	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet)
	r.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet)
	if s.cfg.Faults != nil {
		r.HandleFunc("/internal/faults", s.faultHandler(s.cfg.Faults)).Methods(http.MethodPost)
	}
	internal := s.node.InternalHandler()
	r.PathPrefix("/internal/").Handler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set(api.HeaderIndex, strconv.FormatUint(s.node.AppliedIndex(), 10))
		internal.ServeHTTP(w, req)
	}))
	return r
}

// prefixed registers routes under a path prefix on one router.
type prefixed struct {
	r      *mux.Router
	prefix string
}

func (p *prefixed) HandleFunc(path string, f func(http.ResponseWriter, *http.Request)) *mux.Route {
	return p.r.HandleFunc(p.prefix+path, f)
}
