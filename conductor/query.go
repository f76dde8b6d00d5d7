package conductor

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
)

// Listing limits (query parameter limit).
const (
	DefaultListLimit = 1000
	MaxListLimit     = 10000
)

// SortKey is one key of a listing order: created_at, updated_at, name, uuid, project_id, host
// or status. The API tier merges the pages of all cells in the same order (api.CompareRows).
type SortKey = api.SortKey

// ListQuery selects and orders instances, as GET /v1/instances takes them.
type ListQuery struct {
	// Exact-match filters; empty matches everything.
	ProjectID, UserID, Host, Status, Name string
	// Deleted is api.DeletedNo (also when empty), api.DeletedYes or api.DeletedOnly.
	Deleted string
	// Sort is the order, most significant first; empty is created_at desc. uuid asc is
	// appended unless uuid is among the keys, so the order is total.
	Sort []SortKey
	// Limit bounds the answer: 1..MaxListLimit, 0 means DefaultListLimit.
	Limit int
	// Marker is the uuid of an instance of this cell (deleted ones too): the answer starts
	// strictly after it. ErrMarkerNotFound when there is none.
	Marker string
	// After is a position in the order, one value per sort key (uuid included, last unless
	// given among the keys; times in RFC 3339): the answer starts strictly after it. It
	// excludes Marker.
	After []string
}

// listRow is what the filters and sort keys read of an instance. Listings in memory decode
// only this much of each record and read the full records of the rows they answer.
type listRow struct {
	api.SortRow
	UserID  string `json:"user_id"`
	Deleted bool   `json:"deleted"`
}

func rowOf(in *api.Instance) listRow {
	return listRow{SortRow: api.SortRow{UUID: in.UUID, Name: in.Name, ProjectID: in.ProjectID, Status: in.Status,
		Host: in.Host, CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt}, UserID: in.UserID, Deleted: in.Deleted}
}

// setSortValue sets the key of a position from its text (api.SortRow.SortValue).
func setSortValue(pos *api.SortRow, key, v string) error {
	switch key {
	case api.SortCreatedAt:
		return setTime(&pos.CreatedAt, key, v)
	case api.SortUpdatedAt:
		return setTime(&pos.UpdatedAt, key, v)
	case api.SortUUID:
		u, err := validate.UUID("after: uuid", v)
		pos.UUID = u
		return err
	case api.SortName:
		return setString(&pos.Name, key, v)
	case api.SortProjectID:
		return setString(&pos.ProjectID, key, v)
	case api.SortHost:
		return setString(&pos.Host, key, v)
	case api.SortStatus:
		return setString(&pos.Status, key, v)
	}
	return invalidf("unknown sort_key %q", key)
}

func setTime(field *time.Time, key, v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return invalidf("after: %s value %q is not an RFC 3339 time", key, v)
	}
	if err := checkTime("after: "+key, t); err != nil {
		return err
	}
	*field = t.UTC()
	return nil
}

func setString(field *string, key, v string) error {
	if utf8.RuneCountInString(v) > validate.MaxNameLen {
		return invalidf("after: %s value is longer than %d characters", key, validate.MaxNameLen)
	}
	*field = v
	return nil
}

// ParseListQuery reads the query parameters of GET /v1/instances (see api/conductor.go) and
// checks them. Unknown parameters are ignored.
func ParseListQuery(v url.Values) (ListQuery, error) {
	var q ListQuery
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"project_id", &q.ProjectID}, {"user_id", &q.UserID}, {"host", &q.Host}, {"status", &q.Status},
		{"name", &q.Name}, {"deleted", &q.Deleted}, {"marker", &q.Marker},
	} {
		if len(v[f.name]) > 1 {
			return q, invalidf("%s may be given once", f.name)
		}
		*f.dst = v.Get(f.name)
	}
	var err error
	if q.Sort, err = parseSort(v["sort_key"], v["sort_dir"]); err != nil {
		return q, err
	}
	if q.Limit, err = parseLimit(v["limit"]); err != nil {
		return q, err
	}
	if after, ok := v["after"]; ok {
		if len(after) != 1 {
			return q, invalidf("after may be given once")
		}
		if err := json.Unmarshal([]byte(after[0]), &q.After); err != nil || q.After == nil {
			return q, invalidf("after must be a JSON array of strings")
		}
	}
	_, err = planList(q)
	return q, err
}

// parseSort pairs sort keys with directions: no keys means created_at; no directions means
// desc for every key, otherwise one direction per key.
func parseSort(keys, dirs []string) ([]SortKey, error) {
	if len(keys) == 0 {
		keys = []string{"created_at"}
	}
	if len(dirs) != 0 && len(dirs) != len(keys) {
		return nil, invalidf("got %d sort_dir for %d sort_key, want one per key (or none)", len(dirs), len(keys))
	}
	out := make([]SortKey, len(keys))
	for i, k := range keys {
		out[i] = SortKey{Key: k, Desc: true}
		if len(dirs) == 0 {
			continue
		}
		switch dirs[i] {
		case "asc":
			out[i].Desc = false
		case "desc":
		default:
			return nil, invalidf("sort_dir %q: want asc or desc", dirs[i])
		}
	}
	return out, nil
}

func parseLimit(vals []string) (int, error) {
	if len(vals) == 0 {
		return 0, nil
	}
	n, err := strconv.Atoi(vals[0])
	if len(vals) > 1 || err != nil || n < 1 || n > MaxListLimit {
		return 0, invalidf("limit must be one integer from 1 to %d", MaxListLimit)
	}
	return n, nil
}

// listPlan is a checked ListQuery.
type listPlan struct {
	q     ListQuery
	keys  []SortKey // the full order, uuid included
	after *listRow  // the position of q.After
}

// planList checks a query and fills its defaults.
func planList(q ListQuery) (*listPlan, error) {
	p := &listPlan{q: q}
	for _, f := range []struct{ name, v string }{
		{"project_id", q.ProjectID}, {"user_id", q.UserID}, {"host", q.Host}, {"status", q.Status}, {"name", q.Name},
	} {
		if err := validate.Name(f.name, f.v, false); err != nil {
			return nil, err
		}
	}
	var err error
	if p.q.Deleted, err = checkDeletedMode(q.Deleted); err != nil {
		return nil, err
	}
	switch {
	case q.Limit == 0:
		p.q.Limit = DefaultListLimit
	case q.Limit < 0 || q.Limit > MaxListLimit:
		return nil, invalidf("limit must be from 1 to %d", MaxListLimit)
	}
	if p.keys, err = fullOrder(q.Sort); err != nil {
		return nil, err
	}
	if q.Marker != "" {
		if p.q.Marker, err = validate.UUID("marker", q.Marker); err != nil {
			return nil, err
		}
		if q.After != nil {
			return nil, invalidf("marker and after exclude each other")
		}
	}
	if q.After != nil {
		if p.after, err = position(p.keys, q.After); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// fullOrder checks sort keys and returns api.FullOrder of them.
func fullOrder(sort []SortKey) ([]SortKey, error) {
	for i, k := range sort {
		if !api.IsSortKey(k.Key) {
			return nil, invalidf("unknown sort_key %q (want created_at, updated_at, name, uuid, project_id, host or status)", k.Key)
		}
		if slices.ContainsFunc(sort[:i], func(o SortKey) bool { return o.Key == k.Key }) {
			return nil, invalidf("sort_key %q is given twice", k.Key)
		}
	}
	return api.FullOrder(sort), nil
}

// position builds the instance-shaped position of after values, one per key of the full order.
func position(keys []SortKey, after []string) (*listRow, error) {
	if len(after) != len(keys) {
		return nil, invalidf("after has %d values, want %d: one per sort key, then the uuid", len(after), len(keys))
	}
	pos := &listRow{}
	for i, k := range keys {
		if err := setSortValue(&pos.SortRow, k.Key, after[i]); err != nil {
			return nil, err
		}
	}
	return pos, nil
}
