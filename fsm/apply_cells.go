package fsm

import bolt "go.etcd.io/bbolt"

func getCell(tx *bolt.Tx, uuid string) (*Cell, error) {
	r, err := cellsTable.get(tx, uuid)
	if r == nil || err != nil {
		return nil, err
	}
	return r.(*Cell), nil
}

// duplicateURLCell returns the uuid of a cell other than self that uses transportURL or dbURL
// (Nova's create_cell/update_cell rule: either URL alone is a duplicate). Empty values never match.
func duplicateURLCell(tx *bolt.Tx, self, transportURL, dbURL string) (string, error) {
	var dup string
	err := cellsTable.scan(tx, "", func(r Record) (bool, error) {
		c := r.(*Cell)
		if c.UUID == self {
			return true, nil
		}
		if (transportURL != "" && c.TransportURL == transportURL) || (dbURL != "" && c.DatabaseConnection == dbURL) {
			dup = c.UUID
			return false, nil
		}
		return true, nil
	})
	return dup, err
}

func (f *FSM) applyCreateCell(ac *applyCtx, c *CreateCell) (*Result, error) {
	cell := c.Cell
	if cell.UUID == "" {
		return failResult(ac, -1, "create cell: uuid is required: %w", ErrInvalid), nil
	}
	prev, err := getCell(ac.tx, cell.UUID)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		return failResult(ac, -1, "cell %s: %w", cell.UUID, ErrExists), nil
	}
	dup, err := duplicateURLCell(ac.tx, cell.UUID, cell.TransportURL, cell.DatabaseConnection)
	if err != nil {
		return nil, err
	}
	if dup != "" {
		return failResult(ac, -1, "the specified transport_url and/or database_connection combination already exists for another cell with uuid %s: %w", dup, ErrDuplicateURL), nil
	}
	cell.stamp(ac, nil)
	return withRecord(okResult(ac), &cell), cellsTable.put(ac, &cell, nil)
}

// withRecord attaches the record a command left in the state to its result.
func withRecord(res *Result, r Record) *Result {
	res.Record = r
	return res
}

func (f *FSM) applyMapCell0(ac *applyCtx, c *MapCell0) (*Result, error) {
	prev, err := getCell(ac.tx, Cell0UUID)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		return &Result{Index: ac.index, FailedOp: -1, Record: prev}, nil
	}
	cell := Cell{UUID: Cell0UUID, Name: Cell0Name, TransportURL: Cell0TransportURL, DatabaseConnection: c.DatabaseConnection}
	cell.stamp(ac, nil)
	return withRecord(okResult(ac), &cell), cellsTable.put(ac, &cell, nil)
}

// applyUpdateCell follows update_cell's order of checks: not found, duplicate URL, cell0 flag.
func (f *FSM) applyUpdateCell(ac *applyCtx, c *UpdateCell) (*Result, error) {
	prev, err := getCell(ac.tx, c.UUID)
	if err != nil {
		return nil, err
	}
	if prev == nil {
		return failResult(ac, -1, "cell %s: %w", c.UUID, ErrNotFound), nil
	}
	next := *prev
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&next.Name, c.Name)
	set(&next.TransportURL, c.TransportURL)
	set(&next.DatabaseConnection, c.DatabaseConnection)
	if c.TransportURL != nil || c.DatabaseConnection != nil {
		tu, db := "", ""
		if c.TransportURL != nil {
			tu = *c.TransportURL
		}
		if c.DatabaseConnection != nil {
			db = *c.DatabaseConnection
		}
		dup, err := duplicateURLCell(ac.tx, c.UUID, tu, db)
		if err != nil {
			return nil, err
		}
		if dup != "" {
			return failResult(ac, -1, "the specified transport_url and/or database_connection combination already exists for another cell with uuid %s: %w", dup, ErrDuplicateURL), nil
		}
	}
	if c.Disabled != nil {
		if prev.IsCell0() {
			return failResult(ac, -1, "cell0 cannot be disabled or enabled: %w", ErrCell0Immutable), nil
		}
		next.Disabled = *c.Disabled
	}
	next.Revision, next.UpdatedAt = prev.Revision, prev.UpdatedAt
	if next == *prev {
		return &Result{Index: ac.index, FailedOp: -1, Record: prev}, nil
	}
	next.stamp(ac, prev)
	return withRecord(okResult(ac), &next), cellsTable.put(ac, &next, prev)
}

// cellUsage counts what still points at a cell.
type cellUsage struct {
	hosts      []Record
	mappings   []Record
	notDeleted int
}

// landedAfter counts the non-deleted instance mappings written after index (0: none checked).
func (u *cellUsage) landedAfter(index uint64) int {
	if index == 0 {
		return 0
	}
	n := 0
	for _, r := range u.mappings {
		if m := r.(*InstanceMapping); !m.QueuedForDelete && m.Revision > index {
			n++
		}
	}
	return n
}

func readCellUsage(tx *bolt.Tx, uuid string) (*cellUsage, error) {
	u := &cellUsage{}
	collect := func(t *table, ix *index, dst *[]Record) error {
		return scanIndex(tx, ix, uuid, nil, func(key string) (bool, error) {
			r, err := t.get(tx, key)
			if err != nil || r == nil {
				return err == nil, err
			}
			*dst = append(*dst, r)
			return true, nil
		})
	}
	if err := collect(hostsTable, &hostsTable.indexes[0], &u.hosts); err != nil {
		return nil, err
	}
	if err := collect(instancesTable, &instancesTable.indexes[1], &u.mappings); err != nil {
		return nil, err
	}
	for _, r := range u.mappings {
		if !r.(*InstanceMapping).QueuedForDelete {
			u.notDeleted++
		}
	}
	return u, nil
}

// applyDeleteCell follows delete_cell: not found (1), hosts without force (2), non-deleted
// instances even with force (3; judged by queued_for_delete unless NoLiveInstances), mappings
// of deleted instances without force (4). A forced
// delete removes the cell's instance and host mappings and its map_instances marker too.
func (f *FSM) applyDeleteCell(ac *applyCtx, c *DeleteCell) (*Result, error) {
	prev, err := getCell(ac.tx, c.UUID)
	if err != nil {
		return nil, err
	}
	if prev == nil {
		return failResult(ac, -1, "cell %s: %w", c.UUID, ErrNotFound), nil
	}
	u, err := readCellUsage(ac.tx, c.UUID)
	if err != nil {
		return nil, err
	}
	switch {
	case len(u.hosts) > 0 && !c.Force:
		return failResult(ac, -1, "cell %s has %d host mappings: %w", c.UUID, len(u.hosts), ErrHostsMapped), nil
	case u.notDeleted > 0 && !c.NoLiveInstances, u.landedAfter(c.LiveCheckedAt) > 0:
		return failResult(ac, -1, "cell %s has %d non-deleted instances: %w", c.UUID, u.notDeleted, ErrInstancesExist), nil
	case len(u.mappings) > 0 && !c.Force:
		return failResult(ac, -1, "cell %s has %d instance mappings of deleted instances: %w", c.UUID, len(u.mappings), ErrDeletedInstancesMapped), nil
	}
	for _, group := range []struct {
		t    *table
		recs []Record
	}{{instancesTable, u.mappings}, {hostsTable, u.hosts}} {
		for _, r := range group.recs {
			if h, ok := r.(*HostMapping); ok {
				if err := dropHostFromAggregates(ac, h.Host); err != nil {
					return nil, err
				}
			}
			if err := group.t.del(ac, r); err != nil {
				return nil, err
			}
		}
	}
	if m, err := markersTable.get(ac.tx, c.UUID); err != nil {
		return nil, err
	} else if m != nil {
		if err := markersTable.del(ac, m); err != nil {
			return nil, err
		}
	}
	return okResult(ac), cellsTable.del(ac, prev)
}

func (f *FSM) applyPutFlavor(ac *applyCtx, c *PutFlavor) (*Result, error) {
	fl := c.Flavor
	if fl.ID == "" {
		return failResult(ac, -1, "flavor: id is required: %w", ErrInvalid), nil
	}
	prev, err := flavorsTable.get(ac.tx, fl.ID)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		return failResult(ac, -1, "flavor %s: %w", fl.ID, ErrExists), nil
	}
	fl.stamp(ac, nil)
	return withRecord(okResult(ac), &fl), flavorsTable.put(ac, &fl, nil)
}

func (f *FSM) applyDeleteFlavor(ac *applyCtx, c *DeleteFlavor) (*Result, error) {
	prev, err := flavorsTable.get(ac.tx, c.ID)
	if err != nil {
		return nil, err
	}
	if prev == nil {
		return failResult(ac, -1, "flavor %s: %w", c.ID, ErrNotFound), nil
	}
	return okResult(ac), flavorsTable.del(ac, prev)
}
