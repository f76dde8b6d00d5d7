package fsm

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Reader reads the state inside one read-only transaction (see [FSM.View]). Records it returns
// are copies; they stay valid after the transaction ends.
type Reader struct{ tx *bolt.Tx }

// AppliedIndex is the raft index the state read here reflects.
func (r *Reader) AppliedIndex() uint64 { return readApplied(r.tx) }

func getAs[T Record](tx *bolt.Tx, t *table, key string) (T, error) {
	var zero T
	rec, err := t.get(tx, key)
	if err != nil {
		return zero, err
	}
	if rec == nil {
		return zero, fmt.Errorf("%s %s: %w", t.name, key, ErrNotFound)
	}
	return rec.(T), nil
}

func listAs[T Record](tx *bolt.Tx, t *table, keep func(T) bool) ([]T, error) {
	var out []T
	err := t.scan(tx, "", func(rec Record) (bool, error) {
		if v := rec.(T); keep == nil || keep(v) {
			out = append(out, v)
		}
		return true, nil
	})
	return out, err
}

// listByIndex returns the records whose indexed value is value, in key order.
func listByIndex[T Record](tx *bolt.Tx, t *table, ix *index, value string) ([]T, error) {
	var out []T
	err := scanIndex(tx, ix, value, nil, func(key string) (bool, error) {
		v, err := getAs[T](tx, t, key)
		if err != nil {
			return false, err
		}
		out = append(out, v)
		return true, nil
	})
	return out, err
}

// Cell returns the cell mapping with uuid (ErrNotFound when there is none).
func (r *Reader) Cell(uuid string) (*Cell, error) { return getAs[*Cell](r.tx, cellsTable, uuid) }

// Cells returns every cell mapping ordered by name, then uuid.
func (r *Reader) Cells() ([]*Cell, error) {
	var out []*Cell
	c := r.tx.Bucket(cellsTable.indexes[0].bucket).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		uuid := string(k[lastZero(k)+1:])
		cell, err := r.Cell(uuid)
		if err != nil {
			return nil, err
		}
		out = append(out, cell)
	}
	return out, nil
}

func lastZero(k []byte) int {
	for i := len(k) - 1; i >= 0; i-- {
		if k[i] == 0 {
			return i
		}
	}
	return -1
}

// HostMapping returns the mapping of host (ErrNotFound when unmapped).
func (r *Reader) HostMapping(host string) (*HostMapping, error) {
	return getAs[*HostMapping](r.tx, hostsTable, host)
}

// HostMappings returns the host mappings of one cell, or of all cells when cellUUID is "",
// ordered by host.
func (r *Reader) HostMappings(cellUUID string) ([]*HostMapping, error) {
	if cellUUID == "" {
		return listAs[*HostMapping](r.tx, hostsTable, nil)
	}
	return listByIndex[*HostMapping](r.tx, hostsTable, &hostsTable.indexes[0], cellUUID)
}

// InstanceMapping returns the mapping of an instance (ErrNotFound when unmapped).
func (r *Reader) InstanceMapping(uuid string) (*InstanceMapping, error) {
	return getAs[*InstanceMapping](r.tx, instancesTable, uuid)
}

// InstanceQuery selects instance mappings. Results are ordered by instance uuid, or by
// creation (oldest first) when ProjectID or CellUUID is set.
type InstanceQuery struct {
	ProjectID string // only this project, when set
	CellUUID  string // only this cell, when set
	// NotDeletedOnly skips mappings that are queued for delete.
	NotDeletedOnly bool
	// Marker starts after this instance (with a project or cell, it must exist:
	// ErrMarkerNotFound otherwise).
	Marker string
	Limit  int // at most this many; 0 means no limit
}

// InstanceMappings returns the mappings q selects.
func (r *Reader) InstanceMappings(q InstanceQuery) ([]*InstanceMapping, error) {
	var out []*InstanceMapping
	keep := func(m *InstanceMapping) bool {
		return (q.CellUUID == "" || m.CellUUID == q.CellUUID) && (q.ProjectID == "" || m.ProjectID == q.ProjectID) &&
			!(q.NotDeletedOnly && m.QueuedForDelete)
	}
	add := func(m *InstanceMapping) bool {
		if keep(m) {
			out = append(out, m)
		}
		return q.Limit <= 0 || len(out) < q.Limit
	}
	var ix *index
	var value string
	switch {
	case q.ProjectID != "":
		ix, value = &instancesTable.indexes[0], q.ProjectID
	case q.CellUUID != "":
		ix, value = &instancesTable.indexes[1], q.CellUUID
	}
	if ix == nil {
		err := instancesTable.scan(r.tx, q.Marker, func(rec Record) (bool, error) {
			return add(rec.(*InstanceMapping)), nil
		})
		return out, err
	}
	var after []byte
	if q.Marker != "" {
		m, err := r.InstanceMapping(q.Marker)
		if err != nil {
			return nil, fmt.Errorf("marker %s: %w", q.Marker, ErrMarkerNotFound)
		}
		after = ix.entryKey(value, m)
	}
	err := scanIndex(r.tx, ix, value, after, func(key string) (bool, error) {
		m, err := r.InstanceMapping(key)
		if err != nil {
			return false, err
		}
		return add(m), nil
	})
	return out, err
}

// CellInstanceCounts counts a cell's instance mappings: all of them, and those not queued for
// delete.
func (r *Reader) CellInstanceCounts(cellUUID string) (total, notDeleted int, err error) {
	u, err := readCellUsage(r.tx, cellUUID)
	if err != nil {
		return 0, 0, err
	}
	return len(u.mappings), u.notDeleted, nil
}

// Flavor returns the flavor with id (ErrNotFound when there is none).
func (r *Reader) Flavor(id string) (*Flavor, error) { return getAs[*Flavor](r.tx, flavorsTable, id) }

// Flavors returns every flavor ordered by id.
func (r *Reader) Flavors() ([]*Flavor, error) { return listAs[*Flavor](r.tx, flavorsTable, nil) }

// BuildRequest returns the build request of an instance (ErrNotFound when there is none).
func (r *Reader) BuildRequest(uuid string) (*ServerRequest, error) {
	return getAs[*ServerRequest](r.tx, buildRequestsTable, uuid)
}

// BuildRequests returns the build requests of a project, or all when projectID is "".
func (r *Reader) BuildRequests(projectID string) ([]*ServerRequest, error) {
	return listAs(r.tx, buildRequestsTable, func(b *ServerRequest) bool {
		return projectID == "" || b.Spec.ProjectID == projectID
	})
}

// RequestSpec returns the request spec of an instance (ErrNotFound when there is none).
func (r *Reader) RequestSpec(uuid string) (*ServerRequest, error) {
	return getAs[*ServerRequest](r.tx, requestSpecsTable, uuid)
}

// Cell0Instance returns a server buried in cell0 (ErrNotFound when there is none).
func (r *Reader) Cell0Instance(uuid string) (*Cell0Instance, error) {
	return getAs[*Cell0Instance](r.tx, cell0Table, uuid)
}

// Cell0Instances returns the cell0 servers of a project, or all when projectID is "".
func (r *Reader) Cell0Instances(projectID string) ([]*Cell0Instance, error) {
	return listAs(r.tx, cell0Table, func(c *Cell0Instance) bool {
		return projectID == "" || c.Spec.ProjectID == projectID
	})
}

// MapMarker returns the map_instances marker of a cell (ErrNotFound when there is none).
func (r *Reader) MapMarker(cellUUID string) (*MapMarker, error) {
	return getAs[*MapMarker](r.tx, markersTable, cellUUID)
}

// Get returns the record of a transaction table at key (ErrNotFound when there is none).
func (r *Reader) Get(t Table, key string) (Record, error) {
	tb := tableOf(t)
	if tb == nil {
		return nil, fmt.Errorf("table %d: %w", t, ErrInvalid)
	}
	return getAs[Record](r.tx, tb, key)
}

// PendingDeletes returns up to limit (0: all) servers queued for delete whose cell has not
// confirmed the delete, by instance uuid.
func (r *Reader) PendingDeletes(limit int) ([]*PendingDelete, error) {
	var out []*PendingDelete
	err := pendingTable.scan(r.tx, "", func(rec Record) (bool, error) {
		out = append(out, rec.(*PendingDelete))
		return limit <= 0 || len(out) < limit, nil
	})
	return out, err
}
