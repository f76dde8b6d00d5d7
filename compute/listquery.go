package compute

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
)

// serverListParams are the query parameters Nova's GET /servers schema knows. Those cellmap
// applies are handled by parseServerList; the others name what cellmap does not model
// (networks, images, keys, tags, ...) and are refused rather than ignored.
var serverListParams = map[string]bool{
	"user_id": true, "project_id": true, "tenant_id": true, "launch_index": true, "image_ref": true, "image": true,
	"kernel_id": true, "ramdisk_id": true, "hostname": true, "key_name": true, "power_state": true, "vm_state": true,
	"task_state": true, "host": true, "node": true, "flavor": true, "reservation_id": true, "launched_at": true,
	"terminated_at": true, "availability_zone": true, "name": true, "display_name": true, "description": true,
	"display_description": true, "locked_by": true, "uuid": true, "root_device_name": true, "config_drive": true,
	"access_ip_v4": true, "access_ip_v6": true, "auto_disk_config": true, "progress": true, "sort_key": true,
	"sort_dir": true, "all_tenants": true, "soft_deleted": true, "deleted": true, "status": true,
	"changes-since": true, "ip": true, "ip6": true, "created_at": true, "limit": true, "marker": true,
	"tags": true, "tags-any": true, "not-tags": true, "not-tags-any": true, "changes-before": true, "locked": true,
	"block_device_mapping": true, "services": true, "metadata": true, "system_metadata": true,
	"info_cache": true, "security_groups": true, "pci_devices": true,
}

// nonAdminFilters are the filters Nova lets non-admins use (more from 2.83); others are dropped
// from a non-admin's query, as Nova's remove_invalid_options does.
var nonAdminFilters = map[string]bool{
	"reservation_id": true, "name": true, "status": true, "image": true, "flavor": true, "ip": true,
	"changes-since": true, "changes-before": true, "all_tenants": true, "ip6": true, "tags": true, "tags-any": true,
	"not-tags": true, "not-tags-any": true, "limit": true, "marker": true, "sort_key": true, "sort_dir": true,
}

var nonAdminFilters283 = map[string]bool{
	"availability_zone": true, "config_drive": true, "key_name": true, "created_at": true, "launched_at": true,
	"terminated_at": true, "power_state": true, "task_state": true, "vm_state": true, "progress": true, "user_id": true,
}

// validStatuses are Nova's server statuses (the status filter's values).
var validStatuses = map[string]bool{
	"ACTIVE": true, "BUILD": true, "DELETED": true, "ERROR": true, "HARD_REBOOT": true, "MIGRATING": true,
	"PASSWORD": true, "PAUSED": true, "REBOOT": true, "REBUILD": true, "RESCUE": true, "RESIZE": true,
	"REVERT_RESIZE": true, "SHELVED": true, "SHELVED_OFFLOADED": true, "SHUTOFF": true, "SOFT_DELETED": true,
	"SUSPENDED": true, "UNKNOWN": true, "VERIFY_RESIZE": true,
}

// sortKeys maps Nova's sort keys that cellmap orders by to the data plane's; ignoredSortKeys
// are the ones Nova drops silently (before 2.75; from 2.75 they are 400).
var sortKeys = map[string]string{
	"created_at": "created_at", "updated_at": "updated_at", "display_name": "display_name", "uuid": "uuid",
	"project_id": "project_id", "host": "host", "vm_state": "status",
}

var ignoredSortKeys = map[string]bool{
	"architecture": true, "cell_name": true, "cleaned": true, "default_ephemeral_device": true,
	"default_swap_device": true, "deleted": true, "deleted_at": true, "disable_terminate": true,
	"ephemeral_gb": true, "ephemeral_key_uuid": true, "id": true, "key_data": true, "launched_on": true,
	"locked": true, "memory_mb": true, "os_type": true, "reservation_id": true, "root_gb": true,
	"shutdown_terminate": true, "user_data": true, "vcpus": true, "vm_mode": true,
}

// serverList is a parsed GET /servers request.
type serverList struct {
	query api.ServerQuery
	// filter keeps the servers the filters select (nil: no filter).
	filter func(*api.Server) bool
	// downSupport: down cells' servers are listed as minimal records (2.69 without paging,
	// sorting or filters other than all_tenants).
	downSupport bool
	// empty: the answer is an empty list (a status no server can have before 2.38).
	empty bool
	limit int
}

// parseServerList reads a GET /servers query as Nova does for what cellmap models.
func (s *Service) parseServerList(q *request, detail bool) (*serverList, error) {
	v := q.r.URL.Query()
	for k := range v {
		if strings.HasPrefix(k, "_") {
			return nil, faultf(http.StatusBadRequest, "Invalid filter field: %s.", k)
		}
		if !serverListParams[k] {
			if q.atLeast(75) {
				return nil, faultf(http.StatusBadRequest, "Additional properties are not allowed ('%s' was unexpected)", k)
			}
			v.Del(k)
			continue
		}
		if !q.admin() && !nonAdminFilters[k] && !(q.atLeast(83) && nonAdminFilters283[k]) {
			v.Del(k) // Nova drops a non-admin's admin-only filters
		}
	}
	out := &serverList{limit: s.cfg.MaxLimit}
	if err := s.listScope(q, v, detail, out); err != nil {
		return nil, err
	}
	if err := s.listPaging(q, v, out); err != nil {
		return nil, err
	}
	filters, err := listFilters(q, v, out)
	if err != nil {
		return nil, err
	}
	if len(filters) > 0 {
		out.filter = func(srv *api.Server) bool {
			for _, f := range filters {
				if !f(srv) {
					return false
				}
			}
			return true
		}
	}
	rest := 0
	for k := range v {
		if k != "all_tenants" {
			rest++
		}
	}
	out.downSupport = q.atLeast(69) && rest == 0
	out.query.Paged = !out.downSupport
	return out, nil
}

// listScope applies all_tenants (admins only) and the project filters.
func (s *Service) listScope(q *request, v url.Values, detail bool, out *serverList) error {
	all := false
	if v.Has("all_tenants") {
		b, err := parseBool(v.Get("all_tenants"))
		if v.Get("all_tenants") == "" {
			b, err = true, nil
		}
		if err != nil {
			return faultf(http.StatusBadRequest, "Invalid input for all_tenants: %s", v.Get("all_tenants"))
		}
		all = b
	}
	if all && !q.admin() {
		rule := "index"
		if detail {
			rule = "detail"
		}
		return policyDenied("os_compute_api:servers:" + rule + ":get_all_tenants")
	}
	project := v.Get("project_id")
	if project == "" {
		project = v.Get("tenant_id")
	}
	switch {
	case q.id != nil && q.id.ProjectID != "": // a scoped token lists its own project only, whatever its role
		out.query.ProjectID = q.id.ProjectID
	case all && project != "":
		out.query.ProjectID = project
	case all:
		out.query.AllTenants = true
	default:
		out.query.ProjectID = q.project()
	}
	return nil
}

// listPaging reads limit, marker, sort_key and sort_dir.
func (s *Service) listPaging(q *request, v url.Values, out *serverList) error {
	if v.Has("limit") {
		n, err := strconv.Atoi(v.Get("limit"))
		if err != nil || n < 0 {
			return faultf(http.StatusBadRequest, "Invalid input for query parameters limit. Value: %s. '%s' does not match '^[0-9]*$'", v.Get("limit"), v.Get("limit"))
		}
		if n > 0 && n < out.limit {
			out.limit = n
		}
	}
	if m := v.Get("marker"); m != "" {
		if _, err := validate.UUID("marker", m); err != nil {
			return faultf(http.StatusBadRequest, "marker [%s] not found", m)
		}
		out.query.Marker = m
	}
	keys, dirs := v["sort_key"], v["sort_dir"]
	var useKeys, useDirs []string
	for i, k := range keys {
		dir := ""
		if i < len(dirs) {
			dir = dirs[i]
		}
		mapped, ok := sortKeys[k]
		switch {
		case ignoredSortKeys[k] && !q.atLeast(75):
			continue
		case (k == "host" || k == "node") && !q.admin():
			continue
		case !ok:
			return faultf(http.StatusBadRequest, "cellmap cannot sort servers by %q: it orders by created_at, updated_at, display_name, uuid, project_id, host and vm_state.", k)
		}
		useKeys = append(useKeys, mapped)
		if dir != "" {
			useDirs = append(useDirs, dir)
		}
	}
	for _, d := range dirs {
		if d != "asc" && d != "desc" {
			return faultf(http.StatusBadRequest, "Invalid input for query parameters sort_dir. Value: %s. '%s' is not one of ['asc', 'desc']", d, d)
		}
	}
	out.query.SortKeys, out.query.SortDirs = useKeys, useDirs
	return nil
}

// listFilters returns the filters cellmap applies; a Nova filter it does not model is a 400.
func listFilters(q *request, v url.Values, out *serverList) ([]func(*api.Server) bool, error) {
	var fs []func(*api.Server) bool
	for k, vals := range v {
		switch k {
		case "all_tenants", "project_id", "tenant_id", "limit", "marker", "sort_key", "sort_dir":
		case "name", "display_name":
			re, err := regexp.Compile(vals[len(vals)-1])
			if err != nil {
				return nil, faultf(http.StatusBadRequest, "Invalid filter field: %s: not a regular expression.", k)
			}
			fs = append(fs, func(s *api.Server) bool { return re.MatchString(s.Name) })
		case "status":
			f, empty, err := statusFilter(q, vals)
			if err != nil {
				return nil, err
			}
			out.empty = out.empty || empty
			fs = append(fs, f)
		case "changes-since", "changes-before":
			t, err := parseISOTime(vals[len(vals)-1])
			if err != nil {
				return nil, faultf(http.StatusBadRequest, "Invalid filter field: %s.", k)
			}
			since := k == "changes-since"
			fs = append(fs, func(s *api.Server) bool {
				u := s.Created
				if s.Updated != nil {
					u = *s.Updated
				}
				if since {
					return !u.Before(t)
				}
				return !u.After(t)
			})
		case "user_id":
			want := vals[len(vals)-1]
			fs = append(fs, func(s *api.Server) bool { return s.UserID == want })
		case "host":
			want := vals[len(vals)-1]
			fs = append(fs, func(s *api.Server) bool { return s.Host == want })
		case "uuid":
			want := vals[len(vals)-1]
			fs = append(fs, func(s *api.Server) bool { return s.ID == want })
		case "deleted", "soft_deleted":
			b, err := parseBool(vals[len(vals)-1])
			if err != nil || b {
				return nil, faultf(http.StatusBadRequest, "cellmap does not list deleted servers.")
			}
		default:
			return nil, faultf(http.StatusBadRequest, "cellmap does not model the %s filter (no networking, images, keys, tags or volumes).", k)
		}
	}
	return fs, nil
}

// statusFilter selects servers by status (any of vals); an unknown status is a 400 from 2.38,
// an empty list before; DELETED is for admins and selects nothing (deleted servers are not
// listed).
func statusFilter(q *request, vals []string) (func(*api.Server) bool, bool, error) {
	want := map[string]bool{}
	for _, s := range vals {
		u := strings.ToUpper(s)
		if !validStatuses[u] {
			if q.atLeast(38) {
				return nil, false, faultf(http.StatusBadRequest, "Invalid status value")
			}
			return nil, true, nil
		}
		if u == api.StatusDeleted && !q.admin() {
			return nil, false, faultf(http.StatusForbidden, "Only administrators may list deleted instances")
		}
		want[u] = true
	}
	return func(s *api.Server) bool { return want[s.Status] }, false, nil
}

// parseISOTime parses the ISO 8601 forms oslo's parse_isotime takes in practice.
func parseISOTime(s string) (time.Time, error) {
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05Z0700",
		"2006-01-02 15:04:05.999999999", "2006-01-02"} {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// parseBool reads a boolean as oslo's bool_from_string (strict) does.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, nil
	case "0", "f", "false", "off", "n", "no":
		return false, nil
	}
	return false, strconv.ErrSyntax
}
