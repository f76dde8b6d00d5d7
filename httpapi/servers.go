package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/cellmap/cellmap/acl"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/gorilla/mux"
)

// Servers is the cells data plane's server API (package cellproxy).
type Servers interface {
	CreateServer(ctx context.Context, req api.ServerCreateSpec) (*api.Server, error)
	ShowServer(ctx context.Context, id string) (*api.Server, error)
	ListServers(ctx context.Context, q api.ServerQuery) (*api.ServerList, error)
	DeleteServer(ctx context.Context, id string) error
}

// CellOps are the operator actions that need a cell's database (package cellproxy).
type CellOps interface {
	DiscoverHosts(ctx context.Context, req api.DiscoverHosts) (*api.DiscoverResult, error)
	MapInstances(ctx context.Context, cellUUID string, req api.MapInstances) (*api.MapInstancesResult, error)
	VerifyInstance(ctx context.Context, uuid string) (*api.VerifyInstance, error)
	Conductors(ctx context.Context) ([]api.Conductor, error)
}

// dataPlaneRoutes registers the data plane's routes when it runs.
func (s *Service) dataPlaneRoutes(r *mux.Router) {
	if s.cfg.Servers != nil {
		s.handle(r, http.MethodGet, "/v1/servers", acl.PermRead, s.listServers)
		s.handle(r, http.MethodPost, "/v1/servers", acl.PermServers, s.createServer)
		s.handle(r, http.MethodGet, "/v1/servers/{uuid}", acl.PermRead, s.showServer)
		s.handle(r, http.MethodDelete, "/v1/servers/{uuid}", acl.PermServers, s.deleteServer)
	}
	if s.cfg.CellOps != nil {
		s.handle(r, http.MethodPost, "/v1/hosts/discover", acl.PermOperate, s.discoverHosts)
		s.handle(r, http.MethodPost, "/v1/cells/{uuid}/map-instances", acl.PermOperate, s.mapInstances)
		s.handle(r, http.MethodGet, "/v1/instance-mappings/{uuid}/verify", acl.PermOperate, s.verifyInstance)
		s.handle(r, http.MethodGet, "/v1/conductors", acl.PermRead, s.conductors)
	}
}

func (s *Service) createServer(w http.ResponseWriter, r *http.Request) {
	var req api.ServerCreate
	if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.failErr(w, err)
		return
	}
	if err := checkWriteProject(r, req.Server.ProjectID); err != nil {
		s.failScope(w, err)
		return
	}
	srv, err := s.cfg.Servers.CreateServer(r.Context(), req.Server)
	if err != nil {
		s.failErr(w, err)
		return
	}
	s.reply(w, http.StatusAccepted, s.node.AppliedIndex(), api.ServerResponse{Server: *srv})
}

func (s *Service) showServer(w http.ResponseWriter, r *http.Request) {
	uuid, err := pathUUID(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	if err := s.mappingInScope(r, uuid); err != nil {
		s.failErr(w, err)
		return
	}
	srv, err := s.cfg.Servers.ShowServer(r.Context(), uuid)
	if err != nil {
		s.failErr(w, err)
		return
	}
	s.reply(w, http.StatusOK, s.node.AppliedIndex(), api.ServerResponse{Server: *srv})
}

func (s *Service) deleteServer(w http.ResponseWriter, r *http.Request) {
	uuid, err := pathUUID(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	if err := s.mappingInScope(r, uuid); err != nil {
		s.failErr(w, err)
		return
	}
	if err := s.cfg.Servers.DeleteServer(r.Context(), uuid); err != nil {
		s.failErr(w, err)
		return
	}
	s.noContent(w, s.node.AppliedIndex())
}

func (s *Service) listServers(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	for k := range v {
		switch k {
		case "project_id", "all_tenants", "limit", "marker", "sort_key", "sort_dir":
		default:
			s.failErr(w, invalidf("unsupported query parameter %q", k))
			return
		}
	}
	q := api.ServerQuery{ProjectID: v.Get("project_id"), SortKeys: v["sort_key"], SortDirs: v["sort_dir"]}
	var err error
	if q.AllTenants, err = queryBool(r, "all_tenants"); err != nil {
		s.failErr(w, err)
		return
	}
	if p := scopedProject(r); p != "" { // a scoped token lists its own project only
		q.ProjectID, q.AllTenants = p, false
	}
	if v.Has("limit") {
		if q.Limit, err = strconv.Atoi(v.Get("limit")); err != nil || q.Limit < 0 {
			s.failErr(w, invalidf("limit must be a non-negative integer"))
			return
		}
	}
	if m := v.Get("marker"); m != "" {
		if q.Marker, err = validate.UUID("marker", m); err != nil {
			s.failErr(w, err)
			return
		}
	}
	q.Paged = v.Has("limit") || v.Has("marker") || v.Has("sort_key") || v.Has("sort_dir")
	list, err := s.cfg.Servers.ListServers(r.Context(), q)
	if err != nil {
		s.failErr(w, err)
		return
	}
	s.reply(w, http.StatusOK, s.node.AppliedIndex(), list)
}

func (s *Service) discoverHosts(w http.ResponseWriter, r *http.Request) {
	var req api.DiscoverHosts
	if r.ContentLength != 0 {
		if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
			s.failErr(w, err)
			return
		}
	}
	if req.CellUUID != "" {
		var err error
		if req.CellUUID, err = validate.UUID("cell_uuid", req.CellUUID); err != nil {
			s.failErr(w, err)
			return
		}
	}
	res, err := s.cfg.CellOps.DiscoverHosts(r.Context(), req)
	if err != nil {
		s.failErr(w, err)
		return
	}
	s.reply(w, http.StatusOK, s.node.AppliedIndex(), res)
}

func (s *Service) mapInstances(w http.ResponseWriter, r *http.Request) {
	uuid, err := pathUUID(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	var req api.MapInstances
	if r.ContentLength != 0 {
		if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
			s.failErr(w, err)
			return
		}
	}
	res, err := s.cfg.CellOps.MapInstances(r.Context(), uuid, req)
	if err != nil {
		s.failErr(w, err)
		return
	}
	s.reply(w, http.StatusOK, s.node.AppliedIndex(), res)
}

func (s *Service) verifyInstance(w http.ResponseWriter, r *http.Request) {
	uuid, err := validate.UUID("uuid", mux.Vars(r)["uuid"])
	if err != nil {
		s.failErr(w, err)
		return
	}
	res, err := s.cfg.CellOps.VerifyInstance(r.Context(), uuid)
	if err != nil {
		s.failErr(w, err)
		return
	}
	s.reply(w, http.StatusOK, s.node.AppliedIndex(), res)
}

func (s *Service) conductors(w http.ResponseWriter, r *http.Request) {
	cs, err := s.cfg.CellOps.Conductors(r.Context())
	if err != nil {
		s.failErr(w, err)
		return
	}
	s.reply(w, http.StatusOK, s.node.AppliedIndex(), api.ConductorList{Conductors: cs})
}
