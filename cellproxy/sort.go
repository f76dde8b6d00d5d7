package cellproxy

import (
	"fmt"
	"strings"

	"github.com/cellmap/cellmap/api"
)

// sortKeyNames maps accepted sort keys (Nova's names included) to the conductor's.
var sortKeyNames = map[string]string{
	"created_at": api.SortCreatedAt, "updated_at": api.SortUpdatedAt, "name": api.SortName, "display_name": api.SortName,
	"uuid": api.SortUUID, "project_id": api.SortProjectID, "host": api.SortHost, "status": api.SortStatus,
}

// sortSpec is a total order on servers: the requested keys, then uuid ascending (api.FullOrder),
// the order the cells list in.
type sortSpec struct{ keys []api.SortKey }

// parseSort applies Nova's defaults: created_at, descending; a missing direction is desc.
func parseSort(keys, dirs []string) (sortSpec, error) {
	if len(dirs) > len(keys) && len(keys) > 0 {
		return sortSpec{}, fmt.Errorf("more sort_dir than sort_key values: %w", ErrInvalid)
	}
	if len(keys) == 0 {
		keys = []string{api.SortCreatedAt}
	}
	var order []api.SortKey
	for i, k := range keys {
		name, ok := sortKeyNames[k]
		if !ok {
			return sortSpec{}, fmt.Errorf("unsupported sort_key %q: %w", k, ErrInvalid)
		}
		desc := true
		if i < len(dirs) {
			switch strings.ToLower(dirs[i]) {
			case "asc":
				desc = false
			case "desc":
			default:
				return sortSpec{}, fmt.Errorf("sort_dir must be asc or desc, not %q: %w", dirs[i], ErrInvalid)
			}
		}
		order = append(order, api.SortKey{Key: name, Desc: desc})
		if name == api.SortUUID {
			break // unique: later keys cannot matter
		}
	}
	return sortSpec{keys: api.FullOrder(order)}, nil
}

// sortRow is what the order reads of a server. A server without an update time (a down
// cell's minimal record) sorts by its creation time for updated_at.
func sortRow(s *api.Server) api.SortRow {
	r := api.SortRow{UUID: s.ID, Name: s.Name, ProjectID: s.TenantID, Status: s.Status, Host: s.Host,
		CreatedAt: s.Created, UpdatedAt: s.Created}
	if s.Updated != nil {
		r.UpdatedAt = *s.Updated
	}
	return r
}

// compare orders a before b (-1), after (1) or equal (0).
func (sp sortSpec) compare(a, b *api.Server) int {
	ra, rb := sortRow(a), sortRow(b)
	return api.CompareRows(sp.keys, &ra, &rb)
}

// after returns the conductor's "after" position of s: its value for every key but the
// trailing uuid, then its uuid.
func (sp sortSpec) after(s *api.Server) []string {
	r := sortRow(s)
	vals := make([]string, 0, len(sp.keys))
	for _, k := range sp.keys[:len(sp.keys)-1] {
		vals = append(vals, r.SortValue(k.Key))
	}
	return append(vals, s.ID)
}

// conductorKeys returns sort_key and sort_dir for a conductor: every key but the trailing uuid
// (the conductor appends uuid ascending itself), or uuid alone when it is the only key.
func (sp sortSpec) conductorKeys() (keys, dirs []string) {
	n := len(sp.keys) - 1
	if n == 0 || sp.keys[n].Desc {
		n = len(sp.keys)
	}
	for _, k := range sp.keys[:n] {
		keys = append(keys, k.Key)
		dir := "asc"
		if k.Desc {
			dir = "desc"
		}
		dirs = append(dirs, dir)
	}
	return keys, dirs
}
