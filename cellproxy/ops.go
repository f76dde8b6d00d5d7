package cellproxy

import (
	"context"
	"errors"
	"net/url"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// VerifyInstance reports where an instance is and whether its cell still has it
// (verify_instance): "present", "deleted" (soft-deleted there) or "missing" (archived).
func (p *Proxy) VerifyInstance(ctx context.Context, uuid string) (*api.VerifyInstance, error) {
	var m *fsm.InstanceMapping
	var cell *fsm.Cell
	var c0 bool
	err := p.read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		if m, err = r.InstanceMapping(uuid); err != nil {
			return err
		}
		if m.CellUUID != "" {
			cell, _ = r.Cell(m.CellUUID)
		}
		_, err = r.Cell0Instance(uuid)
		c0 = err == nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &api.VerifyInstance{InstanceMapping: mappingToAPI(m)}
	if cell != nil {
		c := api.Cell{UUID: cell.UUID, Name: cell.Name, TransportURL: cell.TransportURL, DatabaseConnection: cell.DatabaseConnection, Disabled: cell.Disabled}
		out.Cell = &c
	}
	switch {
	case m.CellUUID == "":
		return out, nil
	case m.CellUUID == fsm.Cell0UUID:
		out.Instance = "missing"
		if c0 {
			out.Instance = "present"
		}
		return out, nil
	}
	var inst *api.Instance
	err = p.cellCall(ctx, m.CellUUID, func(ctx context.Context, addr string) error {
		var err error
		inst, err = p.cells.get(ctx, addr, uuid, true)
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		out.Instance = "missing"
	case err != nil:
		return nil, err
	case inst.Deleted:
		out.Instance = "deleted"
	default:
		out.Instance = "present"
	}
	return out, nil
}

func mappingToAPI(m *fsm.InstanceMapping) api.InstanceMapping {
	out := api.InstanceMapping{InstanceUUID: m.InstanceUUID, ProjectID: m.ProjectID, QueuedForDelete: m.QueuedForDelete,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, Revision: m.Revision}
	if m.CellUUID != "" {
		out.CellUUID = &m.CellUUID
	}
	if m.UserID != "" {
		out.UserID = &m.UserID
	}
	return out
}

// BeforeDeleteCell asks the cell's database what delete_cell needs: a cell with mappings and
// non-deleted instances is refused (ErrInstancesExist, also with force); noLive reports that
// the cell has none. A cell without mappings, cell0 and unknown cells are left to the state's
// own checks. Its hosts are returned so they can be unflagged after a forced delete. checkedAt
// is the index of the state read before asking the cell (0 when the cell was not asked): the
// delete is refused if a server landed in the cell after it.
func (p *Proxy) BeforeDeleteCell(ctx context.Context, cellUUID string) (checkedAt uint64, hosts []string, err error) {
	var total int
	info, err := p.store.Read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		if _, err := r.Cell(cellUUID); err != nil {
			return err
		}
		var err error
		total, _, err = r.CellInstanceCounts(cellUUID)
		hs, herr := r.HostMappings(cellUUID)
		for _, h := range hs {
			hosts = append(hosts, h.Host)
		}
		if err == nil {
			err = herr
		}
		return err
	})
	if errors.Is(err, fsm.ErrNotFound) || cellUUID == fsm.Cell0UUID || (err == nil && total == 0) {
		return 0, hosts, nil
	}
	if err != nil {
		return 0, nil, err
	}
	var stats *api.CellStats
	err = p.cellCall(ctx, cellUUID, func(ctx context.Context, addr string) error {
		var err error
		stats, err = p.cells.stats(ctx, addr)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	if stats.Instances > 0 {
		return 0, nil, novaRefusal(ErrInstancesExist, "There are existing instances mapped to cell with uuid %s", cellUUID)
	}
	return max(info.Index, 1), hosts, nil
}

// BeforeDeleteHost refuses to unmap a host that still runs non-deleted instances
// (ErrInstancesExist, delete_host exit 4).
func (p *Proxy) BeforeDeleteHost(ctx context.Context, cellUUID, host string) error {
	if cellUUID == fsm.Cell0UUID {
		return nil
	}
	q := url.Values{"host": {host}, "limit": {"1"}}
	var insts []api.Instance
	err := p.cellCall(ctx, cellUUID, func(ctx context.Context, addr string) error {
		var err error
		insts, err = p.cells.list(ctx, addr, q)
		return err
	})
	if err != nil {
		return err
	}
	if len(insts) > 0 {
		return novaRefusal(ErrInstancesExist, "There are instances on the host %s", host)
	}
	return nil
}

// AfterUnmapHosts clears the cells' mapped flags of hosts whose mappings were deleted, so a
// later discovery finds them again.
func (p *Proxy) AfterUnmapHosts(ctx context.Context, cellUUID string, hosts []string) {
	if len(hosts) > 0 && cellUUID != fsm.Cell0UUID {
		p.flagMapped(ctx, map[string][]string{cellUUID: hosts}, false)
	}
}

// Conductors lists the conductors of the gossip pool and whether their cell's mapping names
// their address (unmapped ones get no traffic; simple_cell_setup maps them).
func (p *Proxy) Conductors(_ context.Context) ([]api.Conductor, error) {
	return p.registry.Conductors(), nil
}
