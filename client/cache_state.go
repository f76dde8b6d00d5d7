package client

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/cellmap/cellmap/api"
)

// cacheState is one copy of the records a Cache keeps: every kind by key, and the instance
// mappings also by project and by cell. It is not safe for concurrent use: the Cache guards
// its live state with a lock, and builds a new one (a relist) alone.
type cacheState struct {
	records   map[string]map[string]any // kind → key → *api.InstanceMapping, *api.HostMapping, ...
	instances map[string]*api.InstanceMapping
	byProject map[string]map[string]*api.InstanceMapping
	byCell    map[string]map[string]*api.InstanceMapping
}

func newCacheState(kinds []string) *cacheState {
	s := &cacheState{records: map[string]map[string]any{}, byProject: map[string]map[string]*api.InstanceMapping{},
		byCell: map[string]map[string]*api.InstanceMapping{}}
	for _, k := range kinds {
		s.records[k] = map[string]any{}
	}
	s.instances = map[string]*api.InstanceMapping{}
	return s
}

// decodeRecord turns the record of an event into the cache's type of its kind.
func decodeRecord(kind string, raw json.RawMessage) (any, error) {
	var (
		rec any
		err error
	)
	switch kind {
	case api.KindInstanceMappings:
		var m api.InstanceMapping
		err, rec = json.Unmarshal(raw, &m), &m
	case api.KindHostMappings:
		var h api.HostMapping
		err, rec = json.Unmarshal(raw, &h), &h
	case api.KindCells:
		var c api.Cell
		err, rec = json.Unmarshal(raw, &c), &c
	case api.KindFlavors:
		var f api.Flavor
		err, rec = json.Unmarshal(raw, &f), &f
	default:
		return nil, fmt.Errorf("cellmap: change stream sent kind %q the cache did not ask for", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("cellmap: bad %s record in the change stream: %w", kind, err)
	}
	return normalize(rec), nil
}

// normalize drops what listings add to a record but events do not carry (a host's cell
// name, a cell's gossip health), so that a record listed and the same record streamed are
// equal.
func normalize(rec any) any {
	switch r := rec.(type) {
	case *api.HostMapping:
		r.CellName = ""
	case *api.Cell:
		r.Health = nil
	case *api.InstanceMapping:
		r.Cell = nil
	}
	return rec
}

// revisionOf is the revision of the write that stored rec.
func revisionOf(rec any) uint64 {
	switch r := rec.(type) {
	case *api.InstanceMapping:
		return r.Revision
	case *api.HostMapping:
		return r.Revision
	case *api.Cell:
		return r.Revision
	case *api.Flavor:
		return r.Revision
	}
	return 0
}

// put stores rec under key and returns what it replaced (nil: nothing).
func (s *cacheState) put(kind, key string, rec any) any {
	recs := s.records[kind]
	old := recs[key]
	recs[key] = rec
	if kind == api.KindInstanceMappings {
		if o, ok := old.(*api.InstanceMapping); ok {
			s.unindex(o)
		}
		m := rec.(*api.InstanceMapping)
		s.instances[key] = m
		index(s.byProject, m.ProjectID, m)
		if m.CellUUID != nil {
			index(s.byCell, *m.CellUUID, m)
		}
	}
	return old
}

// remove drops key and returns what was there (nil: nothing).
func (s *cacheState) remove(kind, key string) any {
	recs := s.records[kind]
	old, ok := recs[key]
	if !ok {
		return nil
	}
	delete(recs, key)
	if m, ok := old.(*api.InstanceMapping); ok {
		delete(s.instances, key)
		s.unindex(m)
	}
	return old
}

func index(idx map[string]map[string]*api.InstanceMapping, k string, m *api.InstanceMapping) {
	set := idx[k]
	if set == nil {
		set = map[string]*api.InstanceMapping{}
		idx[k] = set
	}
	set[m.InstanceUUID] = m
}

func (s *cacheState) unindex(m *api.InstanceMapping) {
	unindex(s.byProject, m.ProjectID, m.InstanceUUID)
	if m.CellUUID != nil {
		unindex(s.byCell, *m.CellUUID, m.InstanceUUID)
	}
}

func unindex(idx map[string]map[string]*api.InstanceMapping, k, uuid string) {
	if set := idx[k]; set != nil {
		delete(set, uuid)
		if len(set) == 0 {
			delete(idx, k)
		}
	}
}

// sortedMappings returns the mappings of a set ordered by instance uuid.
func sortedMappings(set map[string]*api.InstanceMapping) []*api.InstanceMapping {
	out := make([]*api.InstanceMapping, 0, len(set))
	for _, m := range set {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *api.InstanceMapping) int {
		switch {
		case a.InstanceUUID < b.InstanceUUID:
			return -1
		case a.InstanceUUID > b.InstanceUUID:
			return 1
		}
		return 0
	})
	return out
}

// diff lists the changes that turn s into next, at revision rev, ordered by kind then key:
// additions, updates (a different revision of the record) and deletions.
func (s *cacheState) diff(next *cacheState, kinds []string, rev uint64) []Change {
	var out []Change
	for _, kind := range kinds {
		oldRecs, newRecs := s.records[kind], next.records[kind]
		keys := make([]string, 0, len(oldRecs)+len(newRecs))
		for k := range oldRecs {
			keys = append(keys, k)
		}
		for k := range newRecs {
			if _, ok := oldRecs[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			o, n := oldRecs[k], newRecs[k]
			switch {
			case o == nil:
				out = append(out, Change{Type: ChangeAdd, Kind: kind, Key: k, Revision: rev, New: n})
			case n == nil:
				out = append(out, Change{Type: ChangeDelete, Kind: kind, Key: k, Revision: rev, Old: o})
			case revisionOf(o) != revisionOf(n):
				out = append(out, Change{Type: ChangeUpdate, Kind: kind, Key: k, Revision: rev, Old: o, New: n})
			}
		}
	}
	return out
}
