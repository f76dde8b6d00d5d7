package cellproxy

import (
	"fmt"
	"strings"
	"time"

	"github.com/cellmap/cellmap/api"
)

// sortKeyNames maps accepted sort keys (Nova's names included) to the conductor's.
var sortKeyNames = map[string]string{
	"created_at": "created_at", "updated_at": "updated_at", "name": "name", "display_name": "name",
	"uuid": "uuid", "project_id": "project_id", "host": "host", "status": "status",
}

// sortSpec is a total order on servers: the requested keys, then uuid ascending.
type sortSpec struct {
	keys []string
	desc []bool
}

// parseSort applies Nova's defaults: created_at, descending; a missing direction is desc.
func parseSort(keys, dirs []string) (sortSpec, error) {
	if len(dirs) > len(keys) && len(keys) > 0 {
		return sortSpec{}, fmt.Errorf("more sort_dir than sort_key values: %w", ErrInvalid)
	}
	if len(keys) == 0 {
		keys = []string{"created_at"}
	}
	var s sortSpec
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
		s.keys, s.desc = append(s.keys, name), append(s.desc, desc)
		if name == "uuid" {
			return s, nil // unique: later keys cannot matter
		}
	}
	s.keys, s.desc = append(s.keys, "uuid"), append(s.desc, false)
	return s, nil
}

func isTimeKey(k string) bool { return k == "created_at" || k == "updated_at" }

// value is a server's value for a key; times in RFC 3339 with nanoseconds.
func value(s *api.Server, key string) string {
	switch key {
	case "created_at":
		return s.Created.UTC().Format(time.RFC3339Nano)
	case "updated_at":
		if s.Updated != nil {
			return s.Updated.UTC().Format(time.RFC3339Nano)
		}
		return s.Created.UTC().Format(time.RFC3339Nano)
	case "name":
		return s.Name
	case "uuid":
		return s.ID
	case "project_id":
		return s.TenantID
	case "host":
		return s.Host
	case "status":
		return s.Status
	}
	return ""
}

func timeOf(s *api.Server, key string) time.Time {
	if key == "updated_at" && s.Updated != nil {
		return *s.Updated
	}
	return s.Created
}

// compare orders a before b (-1), after (1) or equal (0).
func (sp sortSpec) compare(a, b *api.Server) int {
	for i, k := range sp.keys {
		var c int
		if isTimeKey(k) {
			c = timeOf(a, k).Compare(timeOf(b, k))
		} else {
			c = strings.Compare(value(a, k), value(b, k))
		}
		if sp.desc[i] {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// after returns the conductor's "after" position of s: its value for every key but the
// trailing uuid, then its uuid.
func (sp sortSpec) after(s *api.Server) []string {
	vals := make([]string, 0, len(sp.keys))
	for _, k := range sp.keys[:len(sp.keys)-1] {
		vals = append(vals, value(s, k))
	}
	return append(vals, s.ID)
}

// conductorKeys returns sort_key and sort_dir for a conductor: every key but the trailing uuid
// (the conductor appends uuid ascending itself), or uuid alone when it is the only key.
func (sp sortSpec) conductorKeys() (keys, dirs []string) {
	n := len(sp.keys) - 1
	if n == 0 || sp.desc[n] {
		n = len(sp.keys)
	}
	for i := 0; i < n; i++ {
		keys = append(keys, sp.keys[i])
		dir := "asc"
		if sp.desc[i] {
			dir = "desc"
		}
		dirs = append(dirs, dir)
	}
	return keys, dirs
}
