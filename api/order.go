package api

import (
	"strings"
	"time"
)

// Sort keys of a server listing: the sort_key values of GET /v1/instances, which the API tier
// also accepts on GET /v1/servers (there with Nova's display_name for name).
const (
	SortCreatedAt = "created_at"
	SortUpdatedAt = "updated_at"
	SortName      = "name"
	SortUUID      = "uuid"
	SortProjectID = "project_id"
	SortHost      = "host"
	SortStatus    = "status"
)

// SortKey is one key of a listing order.
type SortKey struct {
	Key  string // one of the Sort* keys
	Desc bool
}

// IsSortKey reports whether key is one of the Sort* keys.
func IsSortKey(key string) bool {
	switch key {
	case SortCreatedAt, SortUpdatedAt, SortName, SortUUID, SortProjectID, SortHost, SortStatus:
		return true
	}
	return false
}

// FullOrder is Nova's listing order for the requested keys, most significant first: created_at
// newest first when none are requested, then uuid ascending to break ties unless uuid is among
// the keys. It is total, so every cell lists in it and the API tier merges the cells' pages in
// it. keys is not modified.
func FullOrder(keys []SortKey) []SortKey {
	if len(keys) == 0 {
		return []SortKey{{Key: SortCreatedAt, Desc: true}, {Key: SortUUID}}
	}
	out := make([]SortKey, len(keys), len(keys)+1)
	copy(out, keys)
	for _, k := range keys {
		if k.Key == SortUUID {
			return out
		}
	}
	return append(out, SortKey{Key: SortUUID})
}

// SortRow is what a listing order reads of a server. Its JSON names are Instance's, so a cell
// can decode just these fields of a stored instance.
type SortRow struct {
	UUID      string    `json:"uuid"`
	Name      string    `json:"name"`
	ProjectID string    `json:"project_id"`
	Status    string    `json:"status"`
	Host      string    `json:"host"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CompareRows orders row a before b (negative), after b (positive) or with it (0) by keys, most
// significant first, each ascending unless Desc: times as instants, the other keys byte-wise.
// A key that is not a Sort* key compares equal. With keys from FullOrder no two servers compare
// equal.
func CompareRows(keys []SortKey, a, b *SortRow) int {
	for _, k := range keys {
		var c int
		switch k.Key {
		case SortCreatedAt:
			c = a.CreatedAt.Compare(b.CreatedAt)
		case SortUpdatedAt:
			c = a.UpdatedAt.Compare(b.UpdatedAt)
		case SortName:
			c = strings.Compare(a.Name, b.Name)
		case SortUUID:
			c = strings.Compare(a.UUID, b.UUID)
		case SortProjectID:
			c = strings.Compare(a.ProjectID, b.ProjectID)
		case SortHost:
			c = strings.Compare(a.Host, b.Host)
		case SortStatus:
			c = strings.Compare(a.Status, b.Status)
		}
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// SortValue is the row's value for key as text, times in RFC 3339 with nanoseconds in UTC: the
// form of a position in the order (the after parameter of GET /v1/instances).
func (r *SortRow) SortValue(key string) string {
	switch key {
	case SortCreatedAt:
		return r.CreatedAt.UTC().Format(time.RFC3339Nano)
	case SortUpdatedAt:
		return r.UpdatedAt.UTC().Format(time.RFC3339Nano)
	case SortName:
		return r.Name
	case SortUUID:
		return r.UUID
	case SortProjectID:
		return r.ProjectID
	case SortHost:
		return r.Host
	case SortStatus:
		return r.Status
	}
	return ""
}
