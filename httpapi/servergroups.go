package httpapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// Server groups (fsm/servergroups.go): creating and deleting one is what a service does for
// its project (servers permission; a scoped token only in its project), reading needs reader.

func (s *Service) serverGroupRoutes(r *mux.Router) {
	s.handle(r, http.MethodGet, "/v1/server-groups", acl.PermRead, s.listServerGroups)
	s.handle(r, http.MethodPost, "/v1/server-groups", acl.PermServers, s.createServerGroup)
	s.handle(r, http.MethodGet, "/v1/server-groups/{id}", acl.PermRead, s.getServerGroup)
	s.handle(r, http.MethodDelete, "/v1/server-groups/{id}", acl.PermServers, s.deleteServerGroup)
}

// liveMembers says which servers still count (their mapping is not queued for delete).
func liveMembers(rd *fsm.Reader) func(string) bool {
	return func(uuid string) bool {
		m, err := rd.InstanceMapping(uuid)
		return err == nil && !m.QueuedForDelete
	}
}

func (s *Service) listServerGroups(w http.ResponseWriter, r *http.Request) {
	project := r.URL.Query().Get("project_id")
	if scoped := scopedProject(r); scoped != "" {
		project = scoped
	}
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		gs, err := rd.ServerGroups()
		out := api.ServerGroupList{ServerGroups: []api.ServerGroup{}}
		for _, g := range gs {
			if project == "" || g.ProjectID == project {
				out.ServerGroups = append(out.ServerGroups, cellproxy.ServerGroupOut(g, liveMembers(rd)))
			}
		}
		return out, err
	})
}

func (s *Service) getServerGroup(w http.ResponseWriter, r *http.Request) {
	id, err := validate.UUID("id", mux.Vars(r)["id"])
	if err != nil {
		s.failErr(w, err)
		return
	}
	scoped := scopedProject(r)
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		g, err := rd.ServerGroup(id)
		if err != nil {
			return nil, err
		}
		if scoped != "" && g.ProjectID != scoped {
			return nil, errOtherProject
		}
		return cellproxy.ServerGroupOut(g, liveMembers(rd)), nil
	})
}

func (s *Service) createServerGroup(w http.ResponseWriter, r *http.Request) {
	var in api.ServerGroupCreate
	if err := decode(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		s.failErr(w, err)
		return
	}
	if err := checkWriteProject(r, in.ProjectID); err != nil {
		s.failScope(w, err)
		return
	}
	g := &fsm.ServerGroup{ID: api.NewUUID(), Name: in.Name, ProjectID: in.ProjectID, UserID: in.UserID, Policy: in.Policy}
	if in.Rules != nil {
		g.MaxPerHost = in.Rules.MaxServerPerHost
	}
	op := fsm.Op{Kind: fsm.OpPut, Table: fsm.TableServerGroups, Record: g, IfAbsent: true}
	res, ok := s.applied(w, r, &fsm.Txn{Ops: []fsm.Op{op}}, false)
	if !ok {
		return
	}
	s.reply(w, http.StatusCreated, res.Index, cellproxy.ServerGroupOut(res.Record.(*fsm.ServerGroup), nil))
}

func (s *Service) deleteServerGroup(w http.ResponseWriter, r *http.Request) {
	id, err := validate.UUID("id", mux.Vars(r)["id"])
	if err != nil {
		s.failErr(w, err)
		return
	}
	var g *fsm.ServerGroup
	if _, err := s.node.Read(r.Context(), node.Linearizable{}, func(rd *fsm.Reader) error {
		g, err = rd.ServerGroup(id)
		return err
	}); err != nil {
		s.failErr(w, err)
		return
	}
	if scoped := scopedProject(r); scoped != "" && g.ProjectID != scoped {
		s.failErr(w, errOtherProject)
		return
	}
	op := fsm.Op{Kind: fsm.OpDelete, Table: fsm.TableServerGroups, Key: id, IfRevision: g.Revision}
	if res, ok := s.applied(w, r, &fsm.Txn{Ops: []fsm.Op{op}}, true); ok {
		s.noContent(w, res.Index)
	}
}
