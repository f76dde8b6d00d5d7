package cellproxy

import (
	"context"
	"errors"
	"fmt"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// serverState is what the replicated state knows of one server.
type serverState struct {
	mapping *fsm.InstanceMapping
	build   *fsm.ServerRequest
	cell0   *fsm.Cell0Instance
	spec    *fsm.ServerRequest
}

// readServer reads a server's mapping and the records that go with it (linearizable).
func (p *Proxy) readServer(ctx context.Context, uuid string) (*serverState, error) {
	var st *serverState
	err := p.read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		st, err = serverStateIn(r, uuid)
		return err
	})
	return st, err
}

// serverStateIn reads a server's mapping and the records that go with it from r.
func serverStateIn(r *fsm.Reader, uuid string) (*serverState, error) {
	m, err := r.InstanceMapping(uuid)
	if err != nil {
		return nil, err
	}
	st := &serverState{mapping: m}
	if br, err := r.BuildRequest(uuid); err == nil {
		st.build = br
	}
	if c0, err := r.Cell0Instance(uuid); err == nil {
		st.cell0 = c0
	}
	if rs, err := r.RequestSpec(uuid); err == nil {
		st.spec = rs
	}
	return st, nil
}

// ShowServer returns a server: from its build request while building (BUILD), from cell0
// (ERROR), from its cell's conductor, or as a minimal record (UNKNOWN) when its cell is down.
func (p *Proxy) ShowServer(ctx context.Context, uuid string) (*api.Server, error) {
	st, err := p.readServer(ctx, uuid)
	if err != nil {
		return nil, err
	}
	m := st.mapping
	if m.QueuedForDelete {
		return nil, fmt.Errorf("server %s: %w", uuid, ErrNotFound)
	}
	switch {
	case m.CellUUID == "":
		if st.build == nil {
			return nil, fmt.Errorf("server %s: %w", uuid, ErrNotFound)
		}
		s := fromBuildRequest(st.build)
		return &s, nil
	case m.CellUUID == fsm.Cell0UUID:
		if st.cell0 == nil {
			return nil, fmt.Errorf("server %s: %w", uuid, ErrNotFound)
		}
		s := fromCell0(st.cell0)
		return &s, nil
	}
	if p.registry.Up(m.CellUUID) {
		var inst *api.Instance
		err := p.cellCall(ctx, m.CellUUID, func(ctx context.Context, addr string) error {
			var err error
			inst, err = p.cells.get(ctx, addr, uuid, false)
			return err
		})
		switch {
		case err == nil:
			s := fromInstance(inst, m.CellUUID)
			return &s, nil
		case errors.Is(err, ErrNotFound):
			return nil, err
		}
		p.logger.Warn("cell did not answer; showing a minimal record", "server", uuid, "cell", m.CellUUID, "error", err)
	}
	if st.spec == nil {
		return nil, fmt.Errorf("server %s: request spec gone: %w", uuid, ErrNotFound)
	}
	s := minimal(m, st.spec)
	return &s, nil
}

// DeleteServer deletes a server. A server still building loses its build request; one in cell0
// loses its cell0 record; otherwise the mapping is queued for delete and the cell deletes the
// server. A server in a down cell is refused with ErrCellDown and nothing changes.
func (p *Proxy) DeleteServer(ctx context.Context, uuid string) error {
	if err := p.refuseInDownCell(ctx, uuid); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		st, err := p.readServer(ctx, uuid)
		if err != nil {
			return err
		}
		err = p.deleteOnce(ctx, st)
		// The build request went (the server landed) between the read and the write: again.
		if errors.Is(err, fsm.ErrNotFound) && st.mapping.CellUUID == "" && attempt < 3 {
			continue
		}
		return err
	}
}

// refuseInDownCell refuses a delete of a server whose cell this node knows down before
// anything needs the leader, so a node that has lost its leader too still answers cell_down.
// The mapping is read from the local state (LocalUnchecked): if it is stale (the server has
// moved or gone since), the refusal still changes nothing; a mapping in a live cell, or none,
// goes on to the linearizable read that decides.
func (p *Proxy) refuseInDownCell(ctx context.Context, uuid string) error {
	var cell string
	err := p.read(ctx, node.LocalUnchecked{}, func(r *fsm.Reader) error {
		m, err := r.InstanceMapping(uuid)
		if err == nil && !m.QueuedForDelete {
			cell = m.CellUUID
		}
		return nil
	})
	if err != nil || cell == "" || cell == fsm.Cell0UUID || p.registry.Up(cell) {
		return nil
	}
	return cellDown(uuid, cell)
}

// cellDown is the refusal of a request for a server in a down cell.
func cellDown(uuid, cell string) error {
	return &CellsError{Cells: []string{cell}, Err: fmt.Errorf("server %s is in cell %s: %w", uuid, cell, ErrCellDown)}
}

func (p *Proxy) deleteOnce(ctx context.Context, st *serverState) error {
	m := st.mapping
	if m.QueuedForDelete {
		return fmt.Errorf("server %s: %w", m.InstanceUUID, ErrNotFound)
	}
	queued := *m
	queued.QueuedForDelete = true
	mark := fsm.Op{Kind: fsm.OpPut, Table: fsm.TableInstanceMappings, Record: &queued, IfRevision: m.Revision}
	// The mark releases the server's quota claim in the same write (servers created through
	// this API have a request spec and claimed; others never counted).
	withRelease := func(ops ...fsm.Op) *fsm.Txn {
		if st.spec != nil {
			ops = append(ops, quotaOp(m.ProjectID, &st.spec.Spec.Flavor, -1))
		}
		return &fsm.Txn{Ops: ops}
	}
	switch m.CellUUID {
	case "":
		_, err := p.apply(ctx, withRelease(fsm.Op{Kind: fsm.OpDelete, Table: fsm.TableBuildRequests, Key: m.InstanceUUID}, mark))
		return err
	case fsm.Cell0UUID:
		_, err := p.apply(ctx, withRelease(fsm.Op{Kind: fsm.OpDelete, Table: fsm.TableCell0Instances, Key: m.InstanceUUID}, mark))
		return err
	}
	if !p.registry.Up(m.CellUUID) {
		return cellDown(m.InstanceUUID, m.CellUUID)
	}
	// The mark and the pending delete are one write: from here on the leader retries the
	// cell's delete until the cell confirms it, whatever happens to this request.
	pending := fsm.Op{Kind: fsm.OpPut, Table: fsm.TablePendingDeletes, Record: &fsm.PendingDelete{InstanceUUID: m.InstanceUUID, CellUUID: m.CellUUID}}
	res, err := p.apply(ctx, withRelease(mark, pending))
	if err != nil {
		return err
	}
	err = p.cellCall(ctx, m.CellUUID, func(ctx context.Context, addr string) error { return p.cells.delete(ctx, addr, m.InstanceUUID) })
	switch {
	case err == nil || errors.Is(err, ErrNotFound):
		p.confirmDelete(ctx, m.InstanceUUID)
		return nil
	case errors.Is(err, ErrCellDown):
		// The cell never got the request: undo the mark so nothing changed.
		m2 := *m
		undo := []fsm.Op{
			{Kind: fsm.OpPut, Table: fsm.TableInstanceMappings, Record: &m2, IfRevision: res.Index},
			{Kind: fsm.OpDelete, Table: fsm.TablePendingDeletes, Key: m.InstanceUUID},
		}
		if st.spec != nil { // the claim comes back with the server (refused over a lowered limit: then the delete goes on)
			undo = append(undo, quotaOp(m.ProjectID, &st.spec.Spec.Flavor, 1))
		}
		if _, uerr := p.apply(ctx, &fsm.Txn{Ops: undo}); uerr != nil {
			p.logger.Warn("could not undo queued_for_delete after a failed cell delete; the leader retries the delete", "server", m.InstanceUUID, "error", uerr)
			return nil
		}
		return &CellsError{Cells: []string{m.CellUUID}, Err: err}
	default:
		// The cell failed, or its answer was lost: the delete is accepted (queued, hidden
		// from listings) and the leader retries it until the cell confirms.
		p.logger.Warn("cell did not confirm a delete; the leader retries it", "server", m.InstanceUUID, "cell", m.CellUUID, "error", err)
		return nil
	}
}
