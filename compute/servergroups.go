package compute

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// os-server-groups serves the server groups of the replicated state (fsm/servergroups.go),
// whose policies cellproxy enforces race-free when a member lands (cellproxy/groups.go).
// Before 2.64 a group has "policies" (one) and "metadata"; from 2.64 "policy" and "rules".
// Soft policies exist from 2.15, project_id and user_id are shown from 2.13.

// groupNotFound is Nova's 404 for a server group.
func groupNotFound(id string) *Fault {
	return &Fault{Status: http.StatusNotFound, Message: "Instance group " + id + " could not be found.", Err: fsm.ErrNotFound}
}

// groupView is Nova's server group at the request's microversion.
func (q *request) groupView(g api.ServerGroup) map[string]any {
	out := map[string]any{"id": g.ID, "name": g.Name, "members": g.Members}
	if q.atLeast(64) {
		rules := map[string]any{}
		if g.Rules != nil && g.Rules.MaxServerPerHost > 0 {
			rules["max_server_per_host"] = g.Rules.MaxServerPerHost
		}
		out["policy"], out["rules"] = g.Policy, rules
	} else {
		out["policies"], out["metadata"] = []string{g.Policy}, map[string]string{}
	}
	if q.atLeast(13) {
		out["project_id"], out["user_id"] = g.ProjectID, g.UserID
	}
	return out
}

// liveIn says which servers of the state still count as members (not queued for delete).
func liveIn(r *fsm.Reader) func(string) bool {
	return func(uuid string) bool {
		m, err := r.InstanceMapping(uuid)
		return err == nil && !m.QueuedForDelete
	}
}

// listServerGroups is GET /os-server-groups: the caller's project's groups (an unscoped
// caller's: every project's); all_projects is for operators and admins. limit and offset page
// the list.
func (s *Service) listServerGroups(w http.ResponseWriter, q *request) error {
	v := q.r.URL.Query()
	project := q.project()
	if v.Has("all_projects") { // its presence, whatever its value (as Nova)
		if !q.admin() {
			return policyDenied("os_compute_api:os-server-groups:index:all_projects")
		}
		project = ""
	}
	limit, err := queryInt(v.Get("limit"), "limit")
	if err != nil {
		return err
	}
	offset, err := queryInt(v.Get("offset"), "offset")
	if err != nil {
		return err
	}
	out := []map[string]any{}
	_, err = s.cfg.Store.Read(q.r.Context(), node.Linearizable{}, func(r *fsm.Reader) error {
		gs, err := r.ServerGroups()
		for _, g := range gs {
			if project == "" || g.ProjectID == project {
				out = append(out, q.groupView(cellproxy.ServerGroupOut(g, liveIn(r))))
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	out = out[min(int(offset), len(out)):]
	if limit > 0 && int(limit) < len(out) {
		out = out[:limit]
	}
	writeJSON(w, http.StatusOK, map[string]any{"server_groups": out})
	return nil
}

// readGroup reads a group the caller may see: another project's is refused by the rule, as
// Nova's policy refuses it once the group is found.
func (s *Service) readGroup(q *request, rule string) (*fsm.ServerGroup, func(string) bool, error) {
	id := q.pathVar("id")
	if _, err := validate.UUID("id", id); err != nil {
		return nil, nil, groupNotFound(id)
	}
	var g *fsm.ServerGroup
	members := map[string]bool{}
	_, err := s.cfg.Store.Read(q.r.Context(), node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		if g, err = r.ServerGroup(id); err != nil {
			return err
		}
		live := liveIn(r)
		for _, m := range g.Members {
			members[m.InstanceUUID] = live(m.InstanceUUID)
		}
		return nil
	})
	if errors.Is(err, fsm.ErrNotFound) {
		return nil, nil, groupNotFound(id)
	}
	if err == nil && !q.sees(g.ProjectID) {
		return nil, nil, policyDenied(rule)
	}
	return g, func(u string) bool { return members[u] }, err
}

// showServerGroup is GET /os-server-groups/{id}.
func (s *Service) showServerGroup(w http.ResponseWriter, q *request) error {
	g, live, err := s.readGroup(q, "os_compute_api:os-server-groups:show")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"server_group": q.groupView(cellproxy.ServerGroupOut(g, live))})
	return nil
}

// deleteServerGroup is DELETE /os-server-groups/{id}: 204; its servers stay.
func (s *Service) deleteServerGroup(w http.ResponseWriter, q *request) error {
	g, _, err := s.readGroup(q, "os_compute_api:os-server-groups:delete")
	if err != nil {
		return err
	}
	err = s.applyOps(q, fsm.Op{Kind: fsm.OpDelete, Table: fsm.TableServerGroups, Key: g.ID, IfRevision: g.Revision})
	if errors.Is(err, fsm.ErrNotFound) {
		return groupNotFound(g.ID)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// groupCreateBody is POST /os-server-groups' body: policies before 2.64, policy and rules
// from it.
type groupCreateBody struct {
	ServerGroup *struct {
		Name     *string                    `json:"name"`
		Policies []string                   `json:"policies"`
		Policy   *string                    `json:"policy"`
		Rules    map[string]json.RawMessage `json:"rules"`
	} `json:"server_group"`
}

// createServerGroup is POST /os-server-groups (a project's services): 200 with the group, in
// the caller's project.
func (s *Service) createServerGroup(w http.ResponseWriter, q *request) error {
	if q.project() == "" {
		return faultf(http.StatusBadRequest, "This token is not scoped to a project: creating a server group needs a project-scoped token.")
	}
	var body groupCreateBody
	if err := decodeBody(q.r, &body); err != nil {
		return err
	}
	g, err := q.groupSpec(&body)
	if err != nil {
		return err
	}
	if err := s.applyOps(q, fsm.Op{Kind: fsm.OpPut, Table: fsm.TableServerGroups, Record: g, IfAbsent: true}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"server_group": q.groupView(cellproxy.ServerGroupOut(g, nil))})
	return nil
}

// groupSpec checks a create body as Nova's schema of the request's microversion does.
func (q *request) groupSpec(body *groupCreateBody) (*fsm.ServerGroup, error) {
	b := body.ServerGroup
	if b == nil {
		return nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute server_group. 'server_group' is a required property")
	}
	if b.Name == nil || strings.TrimSpace(*b.Name) == "" || len(*b.Name) > 255 {
		return nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute name. name must be 1 to 255 characters, not blank.")
	}
	g := &fsm.ServerGroup{ID: api.NewUUID(), Name: *b.Name, ProjectID: q.project(), UserID: q.user()}
	if q.atLeast(64) {
		if b.Policies != nil {
			return nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute server_group. Additional properties are not allowed ('policies' was unexpected)")
		}
		if b.Policy == nil {
			return nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute server_group. 'policy' is a required property")
		}
		g.Policy = *b.Policy
	} else {
		if b.Policy != nil || b.Rules != nil {
			return nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute server_group. Additional properties are not allowed ('policy' and 'rules' need 2.64)")
		}
		if len(b.Policies) != 1 {
			return nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute policies. policies must hold exactly one policy")
		}
		g.Policy = b.Policies[0]
	}
	switch g.Policy {
	case fsm.PolicyAffinity, fsm.PolicyAntiAffinity:
	case fsm.PolicySoftAffinity, fsm.PolicySoftAntiAffinity:
		if !q.atLeast(15) {
			return nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute policies. %q needs microversion 2.15", g.Policy)
		}
	default:
		return nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute policy. Value: %s. %q is not one of the policies", g.Policy, g.Policy)
	}
	return g, groupRules(g, b.Rules)
}

// groupRules applies 2.64's rules: max_server_per_host, a positive integer, anti-affinity only.
func groupRules(g *fsm.ServerGroup, rules map[string]json.RawMessage) error {
	for k, raw := range rules {
		if k != "max_server_per_host" {
			return faultf(http.StatusBadRequest, "Invalid input for field/attribute rules. Additional properties are not allowed ('%s' was unexpected)", k)
		}
		if g.Policy != fsm.PolicyAntiAffinity {
			return faultf(http.StatusBadRequest, "Only anti-affinity policy supports rules.")
		}
		n, err := quotaNumber(raw)
		if err != nil || n < 1 {
			return faultf(http.StatusBadRequest, "Invalid input for field/attribute max_server_per_host. Value: %s. It must be a positive integer", raw)
		}
		g.MaxPerHost = n
	}
	return nil
}
