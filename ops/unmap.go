package ops

import (
	"context"
	"fmt"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// Store is what the operations need of the replicated state (a *node.Node).
type Store interface {
	Apply(ctx context.Context, c fsm.Command) (*fsm.Result, error)
	Read(ctx context.Context, c node.Consistency, fn func(r *fsm.Reader) error) (node.ReadInfo, error)
}

// Guard asks a cell's database before cell and host mappings go, and tells the cell after
// (package cellproxy).
type Guard interface {
	// BeforeDeleteCell returns, when the cell's database says it has no live instance, the
	// raft index of the state read before asking it (0 otherwise).
	BeforeDeleteCell(ctx context.Context, cellUUID string) (liveCheckedAt uint64, hosts []string, err error)
	BeforeDeleteHost(ctx context.Context, cellUUID, host string) error
	AfterUnmapHosts(ctx context.Context, cellUUID string, hosts []string)
}

// Unmapper deletes cell and host mappings. Like Store.Apply, its methods return a domain
// failure of the state in the result's Err, and a failure to get there as the error.
type Unmapper struct {
	store Store
	guard Guard
}

// NewUnmapper returns an Unmapper over store; guard may be nil (no cells to ask).
func NewUnmapper(store Store, guard Guard) *Unmapper { return &Unmapper{store: store, guard: guard} }

// DeleteCell deletes a cell mapping as delete_cell does. With a guard, a cell that still has
// non-deleted instances is refused (also with force), and after the delete the cell's hosts
// get their mapped flags cleared.
func (u *Unmapper) DeleteCell(ctx context.Context, uuid string, force bool) (*fsm.Result, error) {
	cmd := &fsm.DeleteCell{UUID: uuid, Force: force}
	var hosts []string
	if u.guard != nil {
		var err error
		if cmd.LiveCheckedAt, hosts, err = u.guard.BeforeDeleteCell(ctx, uuid); err != nil {
			return nil, err
		}
		cmd.NoLiveInstances = cmd.LiveCheckedAt != 0
	}
	res, err := u.store.Apply(ctx, cmd)
	if err != nil || res.Err != nil {
		return res, err
	}
	if u.guard != nil {
		u.guard.AfterUnmapHosts(ctx, uuid, hosts)
	}
	return res, nil
}

// DeleteHost deletes a host mapping as delete_host does. When cell is set, the cell must exist
// (fsm.ErrUnknownCell) and the host must be in it (fsm.ErrCellMismatch); ifRevision, when set,
// must be the mapping's revision. With a guard, a host that still runs instances is refused,
// and after the delete the cell's mapped flag of the host is cleared.
func (u *Unmapper) DeleteHost(ctx context.Context, host, cell string, ifRevision uint64) (*fsm.Result, error) {
	guarded, err := u.hostCell(ctx, host, cell)
	if err != nil {
		return nil, err
	}
	if guarded != "" {
		if err := u.guard.BeforeDeleteHost(ctx, guarded, host); err != nil {
			return nil, err
		}
	}
	op := fsm.Op{Kind: fsm.OpDelete, Table: fsm.TableHostMappings, Key: host, IfCell: cell, IfRevision: ifRevision}
	res, err := u.store.Apply(ctx, &fsm.Txn{Ops: []fsm.Op{op}})
	if err != nil || res.Err != nil {
		return res, err
	}
	if guarded != "" {
		u.guard.AfterUnmapHosts(ctx, guarded, []string{host})
	}
	return res, nil
}

// hostCell checks that cell, when set, exists, and returns the cell of host when the guard is
// to be asked about it: "" without a guard, or when the state will refuse the delete anyway
// (no such host, or a host of another cell).
func (u *Unmapper) hostCell(ctx context.Context, host, cell string) (string, error) {
	if cell == "" && u.guard == nil {
		return "", nil
	}
	var current string
	_, err := u.store.Read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		if cell != "" {
			if _, err := r.Cell(cell); err != nil {
				return fmt.Errorf("cell %s not found: %w", cell, fsm.ErrUnknownCell)
			}
		}
		if h, err := r.HostMapping(host); err == nil {
			current = h.CellUUID
		}
		return nil
	})
	if err != nil || u.guard == nil || (cell != "" && current != cell) {
		return "", err
	}
	return current, nil
}
