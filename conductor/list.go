package conductor

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/cellmap/cellmap/api"
	bolt "go.etcd.io/bbolt"
)

// checkEvery is how many rows a scan reads between looks at its context.
const checkEvery = 1024

// compare orders two rows by the plan's keys.
func (p *listPlan) compare(a, b *listRow) int { return api.CompareRows(p.keys, &a.SortRow, &b.SortRow) }

// matches applies the filters.
func (p *listPlan) matches(r *listRow) bool {
	q := &p.q
	return deletedMatches(q.Deleted, r.Deleted) &&
		(q.ProjectID == "" || r.ProjectID == q.ProjectID) && (q.UserID == "" || r.UserID == q.UserID) &&
		(q.Host == "" || r.Host == q.Host) && (q.Status == "" || r.Status == q.Status) &&
		(q.Name == "" || r.Name == q.Name)
}

// byCreated says whether the order is the created_at index's: created_at (either way), uuid asc.
func (p *listPlan) byCreated() (desc, ok bool) {
	if len(p.keys) == 2 && p.keys[0].Key == api.SortCreatedAt && p.keys[1] == (SortKey{Key: api.SortUUID}) {
		return p.keys[0].Desc, true
	}
	return false, false
}

// ListInstances answers an instance listing: the rows matching the filters, in order, strictly
// after the marker or after position, at most Limit of them. Errors: ErrInvalid,
// ErrMarkerNotFound.
func (d *DB) ListInstances(ctx context.Context, q ListQuery) ([]api.Instance, error) {
	p, err := planList(q)
	if err != nil {
		return nil, err
	}
	var out []api.Instance
	err = d.view(ctx, func(tx *bolt.Tx) error {
		pos := p.after
		if p.q.Marker != "" {
			var m listRow
			found, err := getJSON(tx.Bucket(bucketInstances), []byte(p.q.Marker), &m)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("marker [%s] not found: %w", p.q.Marker, ErrMarkerNotFound)
			}
			pos = &m
		}
		if desc, ok := p.byCreated(); ok {
			out, err = p.listByIndex(ctx, tx, desc, pos)
		} else {
			out, err = p.listSorted(ctx, tx, pos)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// listByIndex walks the created_at index from the position and stops at the limit.
func (p *listPlan) listByIndex(ctx context.Context, tx *bolt.Tx, desc bool, pos *listRow) ([]api.Instance, error) {
	// A project-scoped listing walks that project's run of the project index.
	idx, base := tx.Bucket(bucketCreated), []byte(nil)
	if p.q.ProjectID != "" {
		idx, base = tx.Bucket(bucketProject), projectBase(p.q.ProjectID)
	}
	var from []byte
	if pos != nil {
		from = append(bytes.Clone(base), createdKey(pos.CreatedAt, pos.UUID)...)
	}
	ib := tx.Bucket(bucketInstances)
	out := make([]api.Instance, 0, min(p.q.Limit, 128))
	seen := 0
	err := scanCreated(idx.Cursor(), base, desc, from, func(uuid []byte, deleted bool) (bool, error) {
		if seen++; seen%checkEvery == 0 && ctx.Err() != nil {
			return false, ctx.Err()
		}
		if !deletedMatches(p.q.Deleted, deleted) {
			return true, nil
		}
		var in api.Instance
		found, err := getJSON(ib, uuid, &in)
		if err != nil {
			return false, err
		}
		if !found {
			return false, fmt.Errorf("conductor: created_at index names a missing instance %s", uuid)
		}
		if row := rowOf(&in); p.matches(&row) {
			out = append(out, in)
		}
		return len(out) < p.q.Limit, nil
	})
	return out, err
}

// listSorted reads the sort fields of every instance, keeps the best Limit matching rows after
// the position, then reads their full records. Memory stays within a few times the limit.
func (p *listPlan) listSorted(ctx context.Context, tx *bolt.Tx, pos *listRow) ([]api.Instance, error) {
	top := topRows{p: p, limit: p.q.Limit}
	seen := 0
	ib := tx.Bucket(bucketInstances)
	err := ib.ForEach(func(k, v []byte) error {
		if seen++; seen%checkEvery == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		row := new(listRow)
		if err := decodeJSON(k, v, row); err != nil {
			return err
		}
		if p.matches(row) && (pos == nil || p.compare(row, pos) > 0) {
			top.add(row)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rows := top.sorted()
	out := make([]api.Instance, len(rows))
	for i, r := range rows {
		if _, err := getJSON(ib, []byte(r.UUID), &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// topRows keeps the first limit rows of an order among those added.
type topRows struct {
	p     *listPlan
	limit int
	rows  []*listRow
	worst *listRow // once trimmed: the last row kept; rows not before it are dropped
}

func (t *topRows) add(r *listRow) {
	if t.worst != nil && t.p.compare(r, t.worst) >= 0 {
		return
	}
	t.rows = append(t.rows, r)
	if len(t.rows) >= 2*t.limit+checkEvery {
		t.rows = t.sorted()
	}
}

// sorted sorts the rows kept, trims them to the limit and returns them.
func (t *topRows) sorted() []*listRow {
	slices.SortFunc(t.rows, t.p.compare)
	if len(t.rows) >= t.limit {
		t.rows = t.rows[:t.limit]
		t.worst = t.rows[t.limit-1]
	}
	return t.rows
}
