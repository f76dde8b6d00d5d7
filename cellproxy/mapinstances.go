package cellproxy

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// Batch sizes of map_instances.
const (
	defaultMapBatch = 50
	maxMapBatch     = 10000 // with the marker op, below fsm.MaxTxnOps
)

// MapInstances maps one batch of a cell's instances (deleted ones included, oldest first) and
// moves the cell's resume marker in the same transaction. Done is false when the batch was
// full: more may remain (Nova's quirk: an exactly full last batch needs one more, empty run).
// Reset starts again from the oldest instance. Instances already mapped are left alone.
// Unlike Nova, a deleted instance's mapping is created queued_for_delete.
func (p *Proxy) MapInstances(ctx context.Context, cellUUID string, req api.MapInstances) (*api.MapInstancesResult, error) {
	batch := req.MaxCount
	if batch == 0 {
		batch = defaultMapBatch
	}
	if batch < 0 || batch > maxMapBatch {
		return nil, fmt.Errorf("max_count must be 1..%d: %w", maxMapBatch, ErrInvalid)
	}
	var cell *fsm.Cell
	var marker *fsm.MapMarker
	err := p.read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		if cell, err = r.Cell(cellUUID); err != nil {
			return err
		}
		if m, err := r.MapMarker(cellUUID); err == nil {
			marker = m
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if cell.IsCell0() {
		return &api.MapInstancesResult{Done: true}, nil // cell0 servers are mapped when buried
	}
	from := ""
	if marker != nil && !req.Reset {
		from = marker.Marker
	}
	insts, err := p.instanceBatch(ctx, cellUUID, from, batch)
	if errors.Is(err, ErrMarkerNotFound) {
		p.logger.Warn("map_instances marker no longer in the cell; starting over", "cell", cellUUID, "marker", from)
		insts, err = p.instanceBatch(ctx, cellUUID, "", batch)
	}
	if err != nil {
		return nil, err
	}
	return p.mapBatch(ctx, cellUUID, insts, batch, marker)
}

func (p *Proxy) instanceBatch(ctx context.Context, cell, marker string, batch int) ([]api.Instance, error) {
	q := url.Values{"deleted": {api.DeletedYes}, "sort_key": {"created_at"}, "sort_dir": {"asc"}, "limit": {strconv.Itoa(batch)}}
	if marker != "" {
		q.Set("marker", marker)
	}
	var insts []api.Instance
	err := p.cellCall(ctx, cell, func(ctx context.Context, addr string) error {
		var err error
		insts, err = p.cells.list(ctx, addr, q)
		return err
	})
	return insts, err
}

func (p *Proxy) mapBatch(ctx context.Context, cell string, insts []api.Instance, batch int, marker *fsm.MapMarker) (*api.MapInstancesResult, error) {
	res := &api.MapInstancesResult{Done: len(insts) < batch}
	var ops []fsm.Op
	// LocalUnchecked: follows MapInstances' linearizable read; put_if_absent skips what was mapped since.
	err := p.read(ctx, node.LocalUnchecked{}, func(r *fsm.Reader) error {
		for _, in := range insts {
			if _, err := r.InstanceMapping(in.UUID); err == nil {
				res.Skipped++
				continue
			}
			res.Mapped++
			ops = append(ops, fsm.Op{Kind: fsm.OpPutIfAbsent, Table: fsm.TableInstanceMappings, Record: &fsm.InstanceMapping{
				InstanceUUID: in.UUID, CellUUID: cell, ProjectID: in.ProjectID, UserID: in.UserID,
				QueuedForDelete: in.Deleted, CreatedAt: in.CreatedAt}})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch {
	case !res.Done:
		res.Marker = insts[len(insts)-1].UUID
		ops = append(ops, fsm.Op{Kind: fsm.OpPut, Table: fsm.TableMapMarkers, Record: &fsm.MapMarker{CellUUID: cell, Marker: res.Marker}})
	case marker != nil:
		ops = append(ops, fsm.Op{Kind: fsm.OpDelete, Table: fsm.TableMapMarkers, Key: cell, IfRevision: marker.Revision})
	}
	if len(ops) == 0 {
		return res, nil
	}
	if _, err := p.apply(ctx, &fsm.Txn{Ops: ops}); err != nil {
		return nil, err
	}
	return res, nil
}
