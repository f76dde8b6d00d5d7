package cellproxy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/requestid"
	"github.com/cellmap/cellmap/node"
)

// noValidHostFault is the fault of a server buried in cell0.
const noValidHostFault = "No valid host was found. There are not enough hosts available."

// CreateServer accepts a server: request spec, build request, mapping (no cell yet) and the
// project's quota claim are written in one transaction (refused with fsm.ErrQuotaExceeded over
// a limit), then the server is scheduled in the background. With BlockCreatesOnDownCell it is
// refused with ErrProjectCellDown while the project has non-deleted servers in a down cell.
func (p *Proxy) CreateServer(ctx context.Context, req api.ServerCreateSpec) (*api.Server, error) {
	if err := validateCreate(req); err != nil {
		return nil, err
	}
	var flavor *fsm.Flavor
	var join fsm.Op
	uuid, now := api.NewUUID(), p.now().UTC()
	projectCells := map[string]bool{}
	err := p.read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		f, err := r.Flavor(req.FlavorRef)
		if errors.Is(err, fsm.ErrNotFound) {
			return fmt.Errorf("flavor %s could not be found: %w", req.FlavorRef, ErrInvalid)
		}
		if err != nil {
			return err
		}
		flavor = f
		if err := p.checkZone(r, req.AvailabilityZone); err != nil {
			return err
		}
		if req.Group != "" {
			if join, err = groupJoin(r, req.Group, req.ProjectID, uuid); err != nil {
				return err
			}
		}
		if !p.cfg.BlockCreatesOnDownCell {
			return nil // the project's cells only matter to Nova's rule
		}
		ms, err := r.InstanceMappings(fsm.InstanceQuery{ProjectID: req.ProjectID, NotDeletedOnly: true})
		for _, m := range ms {
			if m.CellUUID != "" {
				projectCells[m.CellUUID] = true
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if down := p.downOf(projectCells); len(down) > 0 && p.cfg.BlockCreatesOnDownCell {
		return nil, &CellsError{Cells: down, Err: fmt.Errorf("project %s has servers in cells that are down (%v), so its usage cannot be counted: %w",
			req.ProjectID, down, ErrProjectCellDown)}
	}
	spec := fsm.ServerSpec{Name: req.Name, ProjectID: req.ProjectID, UserID: req.UserID, ImageRef: req.ImageRef,
		AvailabilityZone: req.AvailabilityZone, Flavor: *flavor, Metadata: req.Metadata}
	txn := &fsm.Txn{Ops: []fsm.Op{
		{Kind: fsm.OpPut, Table: fsm.TableRequestSpecs, Record: &fsm.ServerRequest{InstanceUUID: uuid, Spec: spec, CreatedAt: now}, IfAbsent: true},
		{Kind: fsm.OpPut, Table: fsm.TableBuildRequests, Record: &fsm.ServerRequest{InstanceUUID: uuid, Spec: spec, CreatedAt: now}, IfAbsent: true},
		{Kind: fsm.OpPut, Table: fsm.TableInstanceMappings, IfAbsent: true,
			Record: &fsm.InstanceMapping{InstanceUUID: uuid, ProjectID: req.ProjectID, UserID: req.UserID, CreatedAt: now}},
		quotaOp(req.ProjectID, &spec.Flavor, 1),
	}}
	if join.Record != nil {
		txn.Ops = append(txn.Ops, join)
	}
	if _, err := p.apply(ctx, txn); err != nil {
		return nil, err
	}
	p.startScheduling(uuid, spec, now, false, requestid.From(ctx), groupHint{known: true, id: req.Group})
	s := fromSpec(uuid, &spec, api.StatusBuild, now, now)
	return &s, nil
}

// validateCreate applies the rules the conductor applies to the same fields (api/validate):
// names as Nova (at most 255 characters, no control characters), metadata at most 128 items
// whose keys and values have at most 255 bytes.
func validateCreate(req api.ServerCreateSpec) error {
	for _, f := range []struct {
		name, v  string
		required bool
	}{{"name", req.Name, true}, {"flavor_ref", req.FlavorRef, true}, {"project_id", req.ProjectID, true},
		{"user_id", req.UserID, true}, {"image_ref", req.ImageRef, false}, {"availability_zone", req.AvailabilityZone, false}} {
		if err := validate.Name(f.name, f.v, f.required); err != nil {
			return fmt.Errorf("%v: %w", err, ErrInvalid)
		}
	}
	if err := validate.Metadata("metadata", req.Metadata, validate.MaxMetadataItems); err != nil {
		return fmt.Errorf("%v: %w", err, ErrInvalid)
	}
	if req.Group != "" {
		if _, err := validate.UUID("group", req.Group); err != nil {
			return fmt.Errorf("%v: %w", err, ErrInvalid)
		}
	}
	return nil
}

// downOf returns, sorted, the cells of the set that are down.
func (p *Proxy) downOf(cells map[string]bool) []string {
	var down []string
	for c := range cells {
		if !p.registry.Up(c) {
			down = append(down, c)
		}
	}
	sort.Strings(down)
	return down
}

// scheduleJob is a server waiting to be scheduled.
type scheduleJob struct {
	uuid    string
	spec    fsm.ServerSpec
	created time.Time
	probe   bool
	// requestID is the id of the request that created the server ("" for a reschedule): the
	// conductor calls and writes of its scheduling carry it.
	requestID string
	group     groupHint
}

// startScheduling queues a server for the scheduling workers unless this node already
// schedules it. probe first looks for the server in every up cell (a rescheduled build request
// may have been built before its scheduler died). With the queue full the build request stays
// in the replicated state for the leader's rescheduler. requestID is the creating request's id
// ("" for none).
func (p *Proxy) startScheduling(uuid string, spec fsm.ServerSpec, created time.Time, probe bool, requestID string, group groupHint) {
	p.mu.Lock()
	if p.scheduling[uuid] {
		p.mu.Unlock()
		return
	}
	p.scheduling[uuid] = true
	p.mu.Unlock()
	select {
	case p.jobs <- scheduleJob{uuid: uuid, spec: spec, created: created, probe: probe, requestID: requestID, group: group}:
	default:
		p.done(uuid)
		p.logger.Warn("scheduling queue full; the leader reschedules the server later", "server", uuid,
			"queue", cap(p.jobs), "retry_after", p.cfg.BuildRetryAfter)
	}
}

// scheduleWorker schedules queued servers one at a time until Close.
func (p *Proxy) scheduleWorker() {
	defer p.wg.Done()
	for {
		select {
		case <-p.base.Done():
			return
		case j := <-p.jobs:
			ctx, cancel := context.WithTimeout(requestid.With(p.base, j.requestID), p.cfg.ScheduleTimeout)
			p.schedule(ctx, j.uuid, j.group, j.spec, j.created, j.probe)
			cancel()
			p.done(j.uuid)
		}
	}
}

// Scheduling is the number of servers this node has queued or is scheduling now.
func (p *Proxy) Scheduling() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.scheduling)
}

// done forgets that this node schedules a server.
func (p *Proxy) done(uuid string) {
	p.mu.Lock()
	delete(p.scheduling, uuid)
	p.mu.Unlock()
}

// schedule builds the server in the first candidate cell that takes it, or buries it in cell0.
func (p *Proxy) schedule(ctx context.Context, uuid string, group groupHint, spec fsm.ServerSpec, created time.Time, probe bool) {
	if probe {
		cell, inst, err := p.findInstance(ctx, uuid)
		if err != nil {
			p.logger.Warn("cannot look for the server in every cell; leaving its build request for a retry", "server", uuid, "error", err)
			return
		}
		if inst != nil {
			p.finishInGroup(ctx, uuid, group, spec, created, cell, inst.Host)
			return
		}
	}
	cells, err := p.candidates(ctx, spec.Flavor)
	if err != nil {
		p.logger.Warn("cannot read the cells; leaving the build request for a retry", "server", uuid, "error", err)
		return
	}
	req := api.InstanceCreate{UUID: uuid, Name: spec.Name, ProjectID: spec.ProjectID, UserID: spec.UserID,
		Flavor: specFlavor(spec.Flavor), ImageRef: spec.ImageRef, AvailabilityZone: spec.AvailabilityZone,
		Metadata: spec.Metadata, CreatedAt: created}
	var noHost bool
	if req.Hosts, req.ExcludeHosts, noHost, err = p.zoneFilter(ctx, spec.AvailabilityZone); err != nil {
		p.logger.Warn("cannot read the availability zones; leaving the build request for a retry", "server", uuid, "error", err)
		return
	}
	if noHost {
		cells = nil // the zone has no host: straight to cell0
	}
	plan, err := p.groupPlan(ctx, uuid, group)
	if err != nil {
		p.logger.Warn("cannot read the server's group; leaving the build request for a retry", "server", uuid, "error", err)
		return
	}
	for _, pass := range plan.passes(req.Hosts, req.ExcludeHosts) {
		req.Hosts, req.ExcludeHosts = pass.only, pass.exclude
		if pass.none {
			continue
		}
		switch p.tryCells(ctx, uuid, group, spec, created, req, cells) {
		case placed, leftForRetry:
			return
		}
	}
	p.bury(ctx, uuid, spec, created, noValidHostFault)
}

// Outcomes of tryCells.
const (
	notPlaced = iota
	placed
	leftForRetry
)

// tryCells asks each cell in turn to build the server and records where it landed.
func (p *Proxy) tryCells(ctx context.Context, uuid string, group groupHint, spec fsm.ServerSpec, created time.Time, req api.InstanceCreate, cells []string) int {
	for _, cell := range cells {
		var inst *api.Instance
		err := p.cellCall(ctx, cell, func(ctx context.Context, addr string) error {
			var err error
			inst, err = p.cells.create(ctx, addr, req)
			return err
		})
		if errors.Is(err, ErrOutcomeUnknown) {
			err = p.cellCall(ctx, cell, func(ctx context.Context, addr string) error {
				var err error
				inst, err = p.cells.get(ctx, addr, uuid, false)
				return err
			})
			if err != nil && !errors.Is(err, ErrNotFound) {
				p.logger.Warn("server may or may not exist in the cell; leaving its build request for a retry", "server", uuid, "cell", cell, "error", err)
				return leftForRetry
			}
		}
		if err == nil {
			if p.finishInGroup(ctx, uuid, group, spec, created, cell, inst.Host) {
				return placed
			}
			continue // its group's policy lost a race on that host: the server was taken back
		}
		p.logger.Debug("cell did not take the server", "server", uuid, "cell", cell, "error", err)
	}
	return notPlaced
}

// candidates returns the up, enabled cells (not cell0) with room for the flavor, emptiest first.
func (p *Proxy) candidates(ctx context.Context, flavor fsm.Flavor) ([]string, error) {
	var cells []*fsm.Cell
	if err := p.read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		cells, err = r.Cells()
		return err
	}); err != nil {
		return nil, err
	}
	type cand struct {
		uuid string
		fits int64
	}
	var mu sync.Mutex
	var out []cand
	var wg sync.WaitGroup
	qctx, cancel := context.WithTimeout(ctx, p.cfg.ListTimeout)
	defer cancel()
	for _, c := range cells {
		if c.IsCell0() || c.Disabled || !p.registry.Up(c.UUID) {
			continue
		}
		wg.Add(1)
		go func(uuid string) {
			defer wg.Done()
			err := p.cellCall(qctx, uuid, func(ctx context.Context, addr string) error {
				capa, err := p.cells.capacity(ctx, addr, specFlavor(flavor))
				if err == nil && capa.Fits > 0 {
					mu.Lock()
					out = append(out, cand{uuid, capa.Fits})
					mu.Unlock()
				}
				return err
			})
			if err != nil {
				p.logger.Debug("capacity query failed", "cell", uuid, "error", err)
			}
		}(c.UUID)
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool {
		if out[i].fits != out[j].fits {
			return out[i].fits > out[j].fits
		}
		return out[i].uuid < out[j].uuid
	})
	uuids := make([]string, len(out))
	for i, c := range out {
		uuids[i] = c.uuid
	}
	return uuids, nil
}

// finish records that the server landed in cell: the mapping gets its cell and the build
// request goes, in one transaction. If the build request is gone, the user deleted the server
// while it was building: the cell's copy is deleted too.
func (p *Proxy) finish(ctx context.Context, uuid string, spec fsm.ServerSpec, created time.Time, cell string, extra ...fsm.Op) error {
	_, err := p.apply(ctx, &fsm.Txn{Ops: append([]fsm.Op{
		{Kind: fsm.OpDelete, Table: fsm.TableBuildRequests, Key: uuid},
		{Kind: fsm.OpPut, Table: fsm.TableInstanceMappings,
			Record: &fsm.InstanceMapping{InstanceUUID: uuid, CellUUID: cell, ProjectID: spec.ProjectID, UserID: spec.UserID, CreatedAt: created}},
	}, extra...)})
	if errors.Is(err, fsm.ErrRevisionMismatch) {
		return err // the group changed since it was read: the caller checks again
	}
	if err == nil {
		p.cfg.observer().Scheduled("cell")
	}
	switch {
	case errors.Is(err, fsm.ErrNotFound):
		p.logger.Info("server deleted while building; deleting it from its cell", "server", uuid, "cell", cell)
		if err := p.cellCall(ctx, cell, func(ctx context.Context, addr string) error { return p.cells.delete(ctx, addr, uuid) }); err != nil {
			p.logger.Warn("could not delete a server deleted while building", "server", uuid, "cell", cell, "error", err)
		}
	case err != nil:
		p.logger.Warn("could not record where a server landed; the leader will retry", "server", uuid, "cell", cell, "error", err)
	}
	return nil
}

// bury stores the server in cell0 with status ERROR, points its mapping there and drops the
// build request, in one transaction (nothing happens if the build request is gone).
func (p *Proxy) bury(ctx context.Context, uuid string, spec fsm.ServerSpec, created time.Time, fault string) {
	_, err := p.apply(ctx, &fsm.Txn{Ops: []fsm.Op{
		{Kind: fsm.OpDelete, Table: fsm.TableBuildRequests, Key: uuid},
		{Kind: fsm.OpPut, Table: fsm.TableCell0Instances,
			Record: &fsm.Cell0Instance{InstanceUUID: uuid, Spec: spec, Status: api.StatusError, Fault: fault, CreatedAt: created}},
		{Kind: fsm.OpPut, Table: fsm.TableInstanceMappings,
			Record: &fsm.InstanceMapping{InstanceUUID: uuid, CellUUID: fsm.Cell0UUID, ProjectID: spec.ProjectID, UserID: spec.UserID, CreatedAt: created}},
	}})
	switch {
	case errors.Is(err, fsm.ErrUnknownCell):
		p.logger.Error("No cell mapping found for cell0 while trying to record scheduling failure. Setup is incomplete.", "server", uuid)
	case errors.Is(err, fsm.ErrNotFound):
		p.logger.Info("server deleted while building", "server", uuid)
	case err != nil:
		p.logger.Warn("could not bury a server in cell0; the leader will retry", "server", uuid, "error", err)
	default:
		p.cfg.observer().Scheduled("cell0")
		p.logger.Info("server buried in cell0", "server", uuid, "fault", fault)
	}
}

// findInstance looks for a server in every mapped cell but cell0. A cell that is down or does
// not answer may hold it (a create whose answer was lost), so then it fails: the server must
// not be built elsewhere until every cell has been asked.
func (p *Proxy) findInstance(ctx context.Context, uuid string) (string, *api.Instance, error) {
	var cells []string
	if err := p.read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		all, err := r.Cells()
		for _, c := range all {
			if !c.IsCell0() {
				cells = append(cells, c.UUID)
			}
		}
		return err
	}); err != nil {
		return "", nil, err
	}
	for _, cell := range cells {
		var inst *api.Instance
		err := p.cellCall(ctx, cell, func(ctx context.Context, addr string) error {
			var err error
			inst, err = p.cells.get(ctx, addr, uuid, false)
			return err
		})
		switch {
		case err == nil:
			return cell, inst, nil
		case !errors.Is(err, ErrNotFound):
			return "", nil, fmt.Errorf("cell %s may hold server %s: %w", cell, uuid, err)
		}
	}
	return "", nil, nil
}

// RescheduleStale schedules again the build requests older than BuildRetryAfter that nobody on
// this node is scheduling. The leader runs it periodically.
func (p *Proxy) RescheduleStale(ctx context.Context) {
	var brs []*fsm.ServerRequest
	if err := p.read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		brs, err = r.BuildRequests("")
		return err
	}); err != nil {
		p.logger.Warn("reschedule: read build requests", "error", err)
		return
	}
	cutoff := p.now().Add(-p.cfg.BuildRetryAfter)
	for _, br := range brs {
		if br.CreatedAt.Before(cutoff) {
			p.cfg.observer().Scheduled("reschedule")
			p.startScheduling(br.InstanceUUID, br.Spec, br.CreatedAt, true, "", groupHint{}) // its group is looked up
		}
	}
}

// quotaOp claims (sign 1) or releases (sign -1) what one server of the flavor counts against
// its project's quota: an instance, its vcpus and its RAM.
func quotaOp(project string, fl *fsm.Flavor, sign int64) fsm.Op {
	return fsm.Op{Kind: fsm.OpAdjust, Table: fsm.TableQuotaUsages, Record: &fsm.QuotaUsage{ProjectID: project,
		QuotaSet: fsm.QuotaSet{Instances: sign, Cores: sign * fl.VCPUs, RAMMB: sign * fl.RAMMB}}}
}
