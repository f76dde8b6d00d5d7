package httpapi

import (
	"net/http"
	"sort"

	"github.com/gorilla/mux"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// Quotas: limits per project (and defaults), usage counted at the API tier (fsm/quota.go).
// Reading a project's quota needs reader (a scoped token only its own project); setting limits
// and verifying usage need operate.

func (s *Service) quotaRoutes(r *mux.Router) {
	s.handle(r, http.MethodGet, "/v1/quotas/{project}", acl.PermRead, s.getQuota)
	s.handle(r, http.MethodPut, "/v1/quotas/{project}", acl.PermOperate, s.putQuota)
	s.handle(r, http.MethodDelete, "/v1/quotas/{project}", acl.PermOperate, s.deleteQuota)
	s.handle(r, http.MethodGet, "/v1/quota-defaults", acl.PermRead, s.getQuotaDefaults)
	s.handle(r, http.MethodPut, "/v1/quota-defaults", acl.PermOperate, s.putQuotaDefaults)
	s.handle(r, http.MethodGet, "/v1/quota-drift", acl.PermOperate, s.quotaDrift)
	s.handle(r, http.MethodPost, "/v1/quota-drift/fix", acl.PermOperate, s.fixQuotaDrift)
}

func quotaValues(q fsm.QuotaSet) api.QuotaValues {
	return api.QuotaValues{Instances: q.Instances, Cores: q.Cores, RAM: q.RAMMB}
}

// quotaProject returns the path's project, refusing one outside a scoped caller's project.
func (s *Service) quotaProject(w http.ResponseWriter, r *http.Request) (string, bool) {
	project := mux.Vars(r)["project"]
	if err := validate.Name("project", project, true); err != nil {
		s.failErr(w, err)
		return "", false
	}
	if err := checkWriteProject(r, project); err != nil {
		s.failScope(w, err)
		return "", false
	}
	return project, true
}

func (s *Service) getQuota(w http.ResponseWriter, r *http.Request) {
	project, ok := s.quotaProject(w, r)
	if !ok {
		return
	}
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		limits, own, err := rd.QuotaLimits(project)
		if err != nil {
			return nil, err
		}
		u, err := rd.QuotaUsage(project)
		if err != nil {
			return nil, err
		}
		return api.Quota{ProjectID: project, Limits: quotaValues(limits), Usage: quotaValues(u.QuotaSet), OwnLimits: own}, nil
	})
}

func (s *Service) getQuotaDefaults(w http.ResponseWriter, r *http.Request) {
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		limits, _, err := rd.QuotaLimits(fsm.DefaultQuotaKey)
		return quotaValues(limits), err
	})
}

func (s *Service) putQuota(w http.ResponseWriter, r *http.Request) {
	if project, ok := s.quotaProject(w, r); ok {
		s.setLimits(w, r, project)
	}
}

func (s *Service) putQuotaDefaults(w http.ResponseWriter, r *http.Request) {
	s.setLimits(w, r, fsm.DefaultQuotaKey)
}

// setLimits merges the body into the key's current limits and writes them, conditioned on the
// record read (412 when another change came between).
func (s *Service) setLimits(w http.ResponseWriter, r *http.Request, key string) {
	var in api.QuotaUpdate
	if err := decode(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		s.failErr(w, err)
		return
	}
	var cur fsm.QuotaSet
	var rev uint64
	_, err := s.node.Read(r.Context(), node.Linearizable{}, func(rd *fsm.Reader) error {
		var err error
		cur, _, err = rd.QuotaLimits(key)
		rev = rd.QuotaLimitRevision(key)
		return err
	})
	if err != nil {
		s.failErr(w, err)
		return
	}
	for _, f := range []struct {
		in  *int64
		out *int64
	}{{in.Instances, &cur.Instances}, {in.Cores, &cur.Cores}, {in.RAM, &cur.RAMMB}} {
		if f.in != nil {
			*f.out = *f.in
		}
	}
	op := fsm.Op{Kind: fsm.OpPut, Table: fsm.TableQuotaLimits, Record: &fsm.QuotaLimit{ProjectID: key, QuotaSet: cur},
		IfRevision: rev, IfAbsent: rev == 0}
	if _, ok := s.applied(w, r, &fsm.Txn{Ops: []fsm.Op{op}}, true); !ok {
		return
	}
	s.reply(w, http.StatusOK, s.node.AppliedIndex(), quotaValues(cur))
}

func (s *Service) deleteQuota(w http.ResponseWriter, r *http.Request) {
	project, ok := s.quotaProject(w, r)
	if !ok {
		return
	}
	res, ok := s.applied(w, r, &fsm.Txn{Ops: []fsm.Op{{Kind: fsm.OpDelete, Table: fsm.TableQuotaLimits, Key: project}}}, false)
	if ok {
		s.noContent(w, res.Index)
	}
}

// drift recounts every project's usage and returns the projects whose record differs, with
// the revisions of their records (0: none).
func drift(rd *fsm.Reader) (*api.QuotaVerify, map[string]uint64, error) {
	counted, err := rd.RecountUsage()
	if err != nil {
		return nil, nil, err
	}
	recorded, err := rd.QuotaUsages()
	if err != nil {
		return nil, nil, err
	}
	revs := map[string]uint64{}
	out := &api.QuotaVerify{Drift: []api.QuotaDrift{}}
	seen := map[string]bool{}
	for _, u := range recorded {
		seen[u.ProjectID] = true
		if c := counted[u.ProjectID]; c != u.QuotaSet {
			out.Drift = append(out.Drift, api.QuotaDrift{ProjectID: u.ProjectID, Recorded: quotaValues(u.QuotaSet), Counted: quotaValues(c)})
			revs[u.ProjectID] = u.Revision
		}
	}
	for p, c := range counted {
		if !seen[p] && c != (fsm.QuotaSet{}) {
			out.Drift = append(out.Drift, api.QuotaDrift{ProjectID: p, Counted: quotaValues(c)})
		}
	}
	out.Projects = len(seen)
	for p := range counted {
		if !seen[p] {
			out.Projects++
		}
	}
	sort.Slice(out.Drift, func(i, j int) bool { return out.Drift[i].ProjectID < out.Drift[j].ProjectID })
	return out, revs, nil
}

func (s *Service) quotaDrift(w http.ResponseWriter, r *http.Request) {
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		v, _, err := drift(rd)
		return v, err
	})
}

// fixQuotaDrift replaces each drifted usage with its recount, in one transaction conditioned
// on the records read (412 when a create or delete came between: verify again).
func (s *Service) fixQuotaDrift(w http.ResponseWriter, r *http.Request) {
	var v *api.QuotaVerify
	var revs map[string]uint64
	_, err := s.node.Read(r.Context(), node.Linearizable{}, func(rd *fsm.Reader) error {
		var err error
		v, revs, err = drift(rd)
		return err
	})
	if err != nil {
		s.failErr(w, err)
		return
	}
	if len(v.Drift) > 0 {
		ops := make([]fsm.Op, 0, len(v.Drift))
		for _, d := range v.Drift {
			c := d.Counted
			ops = append(ops, fsm.UsageFixOp(d.ProjectID, &fsm.QuotaUsage{Revision: revs[d.ProjectID]},
				fsm.QuotaSet{Instances: c.Instances, Cores: c.Cores, RAMMB: c.RAM}))
		}
		if _, ok := s.applied(w, r, &fsm.Txn{Ops: ops}, true); !ok {
			return
		}
		v.Fixed = true
	}
	s.reply(w, http.StatusOK, s.node.AppliedIndex(), v)
}
