package compute

import (
	"net/http"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/hashicorp/go-hclog"
)

// Service is the compute API of one node.
type Service struct {
	cfg    Config
	limits Limits
	logger hclog.Logger
}

// New builds the compute API.
func New(cfg *Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: *cfg, limits: cfg.Limits, logger: cfg.Logger}
	if s.logger == nil {
		s.logger = hclog.NewNullLogger()
	}
	if s.limits == nil {
		s.limits = NewStateLimits(cfg.Store)
	}
	return s, nil
}

// handler serves one versioned request; an error is answered as a Nova fault.
type handler func(w http.ResponseWriter, q *request) error

// Mount returns the compute API's routes for httpapi, each with the permission its callers
// need, and its refusals in Nova's format.
func (s *Service) Mount() httpapi.Mount {
	p := s.cfg.Prefix
	v := p + "/v2.1"
	read, servers, operate := acl.PermRead, acl.PermServers, acl.PermOperate
	route := func(method, path string, perm acl.Perm, h handler) httpapi.Route {
		return httpapi.Route{Method: method, Path: path, Perm: perm, Handler: s.versioned(h)}
	}
	get, post, put, del := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	routes := []httpapi.Route{
		// Version discovery is public, as in Nova; the root is not under microversions.
		{Method: get, Path: p + "/", Perm: acl.PermPublic, Handler: s.versions},
		route(get, v, acl.PermPublic, s.version),
		route(get, v+"/", acl.PermPublic, s.version),

		// "detail" before {uuid}: routes are tried in order.
		route(get, v+"/servers/detail", read, s.listServersDetail),
		route(get, v+"/servers", read, s.listServers),
		route(post, v+"/servers", servers, s.createServer),
		route(get, v+"/servers/{uuid}", read, s.showServer),
		route(del, v+"/servers/{uuid}", servers, s.deleteServer),
		route(get, v+"/servers/{uuid}/metadata", read, s.listMetadata),
		route(get, v+"/servers/{uuid}/metadata/{key}", read, s.showMetadata),

		route(get, v+"/flavors/detail", read, s.listFlavorsDetail),
		route(get, v+"/flavors", read, s.listFlavors),
		route(post, v+"/flavors", operate, s.createFlavor),
		route(get, v+"/flavors/{id}", read, s.showFlavor),
		route(del, v+"/flavors/{id}", operate, s.deleteFlavor),
		route(get, v+"/flavors/{id}/os-extra_specs", read, s.listExtraSpecs),
		route(get, v+"/flavors/{id}/os-extra_specs/{key}", read, s.showExtraSpec),

		route(get, v+"/os-services", operate, s.listServices),
		route(get, v+"/os-hypervisors/detail", operate, s.listHypervisorsDetail),
		route(get, v+"/os-hypervisors", operate, s.listHypervisors),
		route(get, v+"/os-hypervisors/{id}", operate, s.showHypervisor),
		route(get, v+"/os-availability-zone", read, s.listZones),
		route(get, v+"/os-availability-zone/detail", operate, s.listZonesDetail),
		route(get, v+"/limits", read, s.showLimits),

		// Quotas: a project's readers see its own, operators and admins any and set them.
		route(get, v+"/os-quota-sets/{project}/defaults", read, s.showQuotaDefaults),
		route(get, v+"/os-quota-sets/{project}/detail", read, s.showQuotaSetDetail),
		route(get, v+"/os-quota-sets/{project}", read, s.showQuotaSet),
		route(put, v+"/os-quota-sets/{project}", operate, s.updateQuotaSet),
		route(del, v+"/os-quota-sets/{project}", operate, s.revertQuotaSet),

		// Server groups: a project's services create and delete them, its readers see them.
		route(get, v+"/os-server-groups", read, s.listServerGroups),
		route(post, v+"/os-server-groups", servers, s.createServerGroup),
		route(get, v+"/os-server-groups/{id}", read, s.showServerGroup),
		route(del, v+"/os-server-groups/{id}", servers, s.deleteServerGroup),

		// Host aggregates: operators and admins only (Nova's admin-only policy).
		route(get, v+"/os-aggregates", operate, s.listAggregates),
		route(post, v+"/os-aggregates", operate, s.createAggregate),
		route(get, v+"/os-aggregates/{id}", operate, s.showAggregate),
		route(put, v+"/os-aggregates/{id}", operate, s.updateAggregate),
		route(del, v+"/os-aggregates/{id}", operate, s.deleteAggregate),
		route(post, v+"/os-aggregates/{id}/action", operate, s.aggregateAction),
	}
	return httpapi.Mount{Routes: routes, Refuse: s.refuse}
}

// refuse answers a request the token guard refused: keystonemiddleware's 401 body, Nova's
// policy 403 (with the version headers when the request's version is valid).
func (s *Service) refuse(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status == http.StatusUnauthorized {
		writeJSON(w, status, unauthorizedBody())
		return
	}
	if v, verr := Negotiate(r.Header); verr == nil {
		setVersionHeaders(w.Header(), v)
	}
	writeJSON(w, status, faultBody(status, toFault(err).Message))
}

// versioned negotiates the microversion, then runs h; every answer carries the version
// headers, a refused version none (as Nova).
func (s *Service) versioned(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := Negotiate(r.Header)
		if err != nil {
			f := toFault(err)
			writeJSON(w, f.Status, faultBody(f.Status, f.Message))
			return
		}
		setVersionHeaders(w.Header(), v)
		q := &request{r: r, v: v, id: httpapi.IdentityFrom(r.Context()), prefix: s.prefixOf(r)}
		if err := h(w, q); err != nil {
			f := toFault(err)
			if f.Status >= 500 {
				s.logger.Warn("compute request failed", "method", r.Method, "path", r.URL.Path, "status", f.Status, "error", err)
			}
			writeJSON(w, f.Status, faultBody(f.Status, f.Message))
		}
	}
}
