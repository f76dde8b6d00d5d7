package compute

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// os-quota-sets serves the quotas counted at the API tier (fsm/quota.go): instances, cores and
// ram are limited and counted; metadata_items is cellmap's fixed 128; server groups and their
// members are unlimited (-1); what cellmap does not model (key pairs, injected files, the
// network proxies) is 0, so none can exist.

// maxQuotaUpdateRetries bounds the re-reads of an update racing another change of the limits.
const maxQuotaUpdateRetries = 5

// settableQuotas are the keys an update may set: those cellmap limits.
var settableQuotas = []string{"instances", "cores", "ram"}

// quotaValues are the quota set's values by Nova's key at the request's microversion, each
// limit with its usage.
func (q *request) quotaValues(l *ProjectLimits) map[string][2]int64 {
	out := map[string][2]int64{
		"instances": {l.Instances, l.InstancesUsed}, "cores": {l.Cores, l.CoresUsed}, "ram": {l.RAMMB, l.RAMUsed},
		"metadata_items": {l.MetadataItems, 0}, "key_pairs": {l.KeyPairs, 0},
		"server_groups": {l.ServerGroups, l.ServerGroupsUsed}, "server_group_members": {l.Members, 0},
	}
	if !q.atLeast(36) { // the network proxies, gone from 2.36
		for _, k := range []string{"fixed_ips", "floating_ips", "security_groups", "security_group_rules"} {
			out[k] = [2]int64{0, 0}
		}
	}
	if !q.atLeast(57) { // personality files, gone from 2.57
		for _, k := range []string{"injected_files", "injected_file_content_bytes", "injected_file_path_bytes"} {
			out[k] = [2]int64{0, 0}
		}
	}
	return out
}

// quotaSet is Nova's quota_set: limits, or with detail {"in_use", "limit", "reserved"}; id
// names the project (Nova leaves it out of an update's answer).
func (q *request) quotaSet(l *ProjectLimits, id string, detail bool) map[string]any {
	out := map[string]any{}
	for k, v := range q.quotaValues(l) {
		if detail {
			out[k] = map[string]int64{"limit": v[0], "in_use": v[1], "reserved": 0}
		} else {
			out[k] = v[0]
		}
	}
	if id != "" {
		out["id"] = id
	}
	return out
}

// quotaProject is the path's project; a scoped caller may read only its own (Nova's policy).
func quotaProject(q *request, rule string) (string, error) {
	project := q.pathVar("project")
	if err := validate.Name("tenant_id", project, true); err != nil {
		return "", faultf(http.StatusBadRequest, "Invalid input for field/attribute tenant_id: %v", err)
	}
	if q.r.URL.Query().Get("user_id") != "" {
		return "", faultf(http.StatusBadRequest, "cellmap keeps no per-user quotas: user_id is not supported.")
	}
	if !q.sees(project) {
		return "", policyDenied(rule)
	}
	return project, nil
}

// readProjectLimits reads a project's limits and usage (fsm.DefaultQuotaKey: the defaults).
func (s *Service) readProjectLimits(q *request, project string) (*ProjectLimits, error) {
	var l *ProjectLimits
	_, err := s.cfg.Store.Read(q.r.Context(), node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		l, err = readLimits(r, project)
		return err
	})
	return l, err
}

// showQuotaSet is GET /os-quota-sets/{project} (a project's readers and the operators).
func (s *Service) showQuotaSet(w http.ResponseWriter, q *request) error {
	return s.quotaShow(w, q, "os_compute_api:os-quota-sets:show", false)
}

// showQuotaSetDetail is GET /os-quota-sets/{project}/detail: each limit with its usage.
func (s *Service) showQuotaSetDetail(w http.ResponseWriter, q *request) error {
	return s.quotaShow(w, q, "os_compute_api:os-quota-sets:detail", true)
}

func (s *Service) quotaShow(w http.ResponseWriter, q *request, rule string, detail bool) error {
	project, err := quotaProject(q, rule)
	if err != nil {
		return err
	}
	l, err := s.readProjectLimits(q, project)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"quota_set": q.quotaSet(l, project, detail)})
	return nil
}

// showQuotaDefaults is GET /os-quota-sets/{project}/defaults: the default limits (any caller).
func (s *Service) showQuotaDefaults(w http.ResponseWriter, q *request) error {
	project := q.pathVar("project")
	l, err := s.readProjectLimits(q, fsm.DefaultQuotaKey)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"quota_set": q.quotaSet(l, project, false)})
	return nil
}

// quotaUpdateBody is PUT /os-quota-sets/{project}'s body: values are integers or strings of
// them (Nova's schema), at least -1.
type quotaUpdateBody struct {
	QuotaSet map[string]json.RawMessage `json:"quota_set"`
}

// parseQuotaUpdate returns the limits an update sets and whether it forces them.
func (q *request) parseQuotaUpdate(body *quotaUpdateBody) (map[string]int64, bool, error) {
	if body.QuotaSet == nil {
		return nil, false, faultf(http.StatusBadRequest, "Invalid input for field/attribute quota_set. 'quota_set' is a required property")
	}
	known := q.quotaValues(&ProjectLimits{})
	out := map[string]int64{}
	force := false
	for _, k := range slices.Sorted(maps.Keys(body.QuotaSet)) {
		raw := body.QuotaSet[k]
		if k == "force" {
			if err := json.Unmarshal(raw, &force); err != nil {
				return nil, false, faultf(http.StatusBadRequest, "Invalid input for field/attribute force. Value: %s. force must be a boolean", raw)
			}
			continue
		}
		if _, ok := known[k]; !ok {
			return nil, false, faultf(http.StatusBadRequest, "Invalid input for field/attribute quota_set. Additional properties are not allowed ('%s' was unexpected)", k)
		}
		v, err := quotaNumber(raw)
		if err != nil || v < fsm.Unlimited {
			return nil, false, faultf(http.StatusBadRequest, "Invalid input for field/attribute %s. Value: %s. %s must be an integer of at least -1", k, raw, k)
		}
		out[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(out)) {
		if !slices.Contains(settableQuotas, k) {
			return nil, false, faultf(http.StatusBadRequest, "cellmap limits only instances, cores and ram: %s cannot be set.", k)
		}
	}
	return out, force, nil
}

// quotaNumber reads an integer or a string of one.
func quotaNumber(raw json.RawMessage) (int64, error) {
	var n int64
	if err := json.Unmarshal(raw, &n); err == nil {
		return n, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(s), 10, 64)
}

// updateQuotaSet is PUT /os-quota-sets/{project} (operators and admins): sets the project's
// own limits; without force a limit below the usage is refused, as Nova refuses it.
func (s *Service) updateQuotaSet(w http.ResponseWriter, q *request) error {
	project, err := quotaProject(q, "os_compute_api:os-quota-sets:update")
	if err != nil {
		return err
	}
	var body quotaUpdateBody
	if err := decodeBody(q.r, &body); err != nil {
		return err
	}
	set, force, err := q.parseQuotaUpdate(&body)
	if err != nil {
		return err
	}
	l, err := s.writeLimits(q, project, set, force)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"quota_set": q.quotaSet(l, "", false)})
	return nil
}

// writeLimits merges set into the project's limits and writes them, conditioned on the record
// read; a change that came between is read again.
func (s *Service) writeLimits(q *request, project string, set map[string]int64, force bool) (*ProjectLimits, error) {
	for try := 0; ; try++ {
		var cur *ProjectLimits
		var rev uint64
		_, err := s.cfg.Store.Read(q.r.Context(), node.Linearizable{}, func(r *fsm.Reader) error {
			var err error
			cur, err = readLimits(r, project)
			rev = r.QuotaLimitRevision(project)
			return err
		})
		if err != nil {
			return nil, err
		}
		next := fsm.QuotaSet{Instances: cur.Instances, Cores: cur.Cores, RAMMB: cur.RAMMB}
		for _, f := range []struct {
			key   string
			limit *int64
			used  int64
			shown *int64
		}{{"instances", &next.Instances, cur.InstancesUsed, &cur.Instances}, {"cores", &next.Cores, cur.CoresUsed, &cur.Cores},
			{"ram", &next.RAMMB, cur.RAMUsed, &cur.RAMMB}} {
			v, ok := set[f.key]
			if !ok {
				continue
			}
			if !force && v != fsm.Unlimited && v < f.used {
				return nil, faultf(http.StatusBadRequest, "Quota limit %d for %s must be greater than or equal to already used and reserved %d.", v, f.key, f.used)
			}
			*f.limit, *f.shown = v, v
		}
		op := fsm.Op{Kind: fsm.OpPut, Table: fsm.TableQuotaLimits, Record: &fsm.QuotaLimit{ProjectID: project, QuotaSet: next},
			IfRevision: rev, IfAbsent: rev == 0}
		err = s.applyOps(q, op)
		if (errors.Is(err, fsm.ErrRevisionMismatch) || errors.Is(err, fsm.ErrExists)) && try < maxQuotaUpdateRetries {
			continue
		}
		if err != nil {
			return nil, err
		}
		return cur, nil
	}
}

// revertQuotaSet is DELETE /os-quota-sets/{project} (operators and admins): the project takes
// the defaults again (202, as Nova).
func (s *Service) revertQuotaSet(w http.ResponseWriter, q *request) error {
	project, err := quotaProject(q, "os_compute_api:os-quota-sets:delete")
	if err != nil {
		return err
	}
	err = s.applyOps(q, fsm.Op{Kind: fsm.OpDelete, Table: fsm.TableQuotaLimits, Key: project})
	if err != nil && !errors.Is(err, fsm.ErrNotFound) {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// applyOps applies a transaction; its domain error is the error.
func (s *Service) applyOps(q *request, ops ...fsm.Op) error {
	res, err := s.cfg.Store.Apply(q.r.Context(), &fsm.Txn{Ops: ops})
	if err == nil && res.Err != nil {
		err = res.Err
	}
	return err
}

// quotaExceeded is Nova's 403 of a create over a limit, with fsm's message ("Quota exceeded
// for instances: Requested 1, but already used 10 of 10 instances").
func quotaExceeded(err error) *Fault {
	msg := err.Error()
	if i := strings.Index(msg, "Quota exceeded for "); i >= 0 {
		msg = msg[i:]
	}
	msg = strings.TrimSuffix(msg, ": "+fsm.ErrQuotaExceeded.Error())
	return &Fault{Status: http.StatusForbidden, Message: msg, Err: err}
}
