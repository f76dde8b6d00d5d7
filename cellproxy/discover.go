package cellproxy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// DiscoverHosts maps the compute hosts of the cells (one cell when req.CellUUID is set) that
// have no host mapping yet, as discover_hosts does: cell0 is skipped; by default the cell's
// unmapped compute hosts are read and marked mapped afterwards; ByService reads the
// nova-compute services instead and leaves the mapped flags alone. New mappings are written
// in transactions of at most Config.DiscoverBatch; a host mapped concurrently makes its
// transaction fail with ErrHostMappingExists (earlier ones stay written, as Nova maps host by
// host). Cells that cannot be reached are listed in FailedCells.
func (p *Proxy) DiscoverHosts(ctx context.Context, req api.DiscoverHosts) (*api.DiscoverResult, error) {
	cells, mapped, err := p.discoverState(ctx, req.CellUUID)
	if err != nil {
		return nil, err
	}
	res := &api.DiscoverResult{Cells: []api.DiscoveredCell{}, Mapped: []api.HostMapping{}}
	var ops []fsm.Op
	flag := map[string][]string{} // cell → hosts to mark mapped
	for _, c := range cells {
		dc := api.DiscoveredCell{CellUUID: c.UUID, CellName: c.Name, Checked: []string{}, Created: []string{}}
		if c.IsCell0() {
			dc.Skipped = "Skipping cell0 since it does not contain hosts."
			res.Cells = append(res.Cells, dc)
			continue
		}
		hosts, err := p.cellHosts(ctx, c.UUID, req.ByService)
		if err != nil {
			p.logger.Warn("discover_hosts: cell unreachable", "cell", c.UUID, "error", err)
			res.FailedCells = append(res.FailedCells, c.UUID)
			continue
		}
		for _, h := range hosts {
			dc.Checked = append(dc.Checked, h)
			switch owner, ok := mapped[h]; {
			case !ok:
				mapped[h] = c.UUID
				dc.Created = append(dc.Created, h)
				ops = append(ops, fsm.Op{Kind: fsm.OpPut, Table: fsm.TableHostMappings, IfAbsent: true,
					Record: &fsm.HostMapping{Host: h, CellUUID: c.UUID}})
				flag[c.UUID] = append(flag[c.UUID], h)
			case owner == c.UUID:
				flag[c.UUID] = append(flag[c.UUID], h)
			}
		}
		res.Cells = append(res.Cells, dc)
	}
	for start := 0; start < len(ops); start += p.cfg.DiscoverBatch {
		chunk := ops[start:min(start+p.cfg.DiscoverBatch, len(ops))]
		if _, err := p.apply(ctx, &fsm.Txn{Ops: chunk}); err != nil {
			if errors.Is(err, fsm.ErrExists) {
				return nil, fmt.Errorf("%w: %v", ErrHostMappingExists, err)
			}
			return nil, err
		}
	}
	for _, op := range ops {
		h := op.Record.(*fsm.HostMapping)
		res.Mapped = append(res.Mapped, api.HostMapping{Host: h.Host, CellUUID: h.CellUUID})
	}
	if !req.ByService {
		p.flagMapped(ctx, flag, true)
	}
	return res, nil
}

// discoverState reads the cells to visit and the hosts already mapped (host → cell).
func (p *Proxy) discoverState(ctx context.Context, only string) ([]*fsm.Cell, map[string]string, error) {
	var cells []*fsm.Cell
	mapped := map[string]string{}
	err := p.read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		if only != "" {
			c, err := r.Cell(only)
			if err != nil {
				return err
			}
			cells = []*fsm.Cell{c}
		} else {
			var err error
			if cells, err = r.Cells(); err != nil {
				return err
			}
		}
		hs, err := r.HostMappings("")
		for _, h := range hs {
			mapped[h.Host] = h.CellUUID
		}
		return err
	})
	return cells, mapped, err
}

// cellHosts lists a cell's unmapped compute hosts, or all of its nova-compute services.
func (p *Proxy) cellHosts(ctx context.Context, cell string, byService bool) ([]string, error) {
	var hosts []string
	err := p.cellCall(ctx, cell, func(ctx context.Context, addr string) error {
		if byService {
			svcs, err := p.cells.services(ctx, addr)
			for _, s := range svcs {
				hosts = append(hosts, s.Host)
			}
			return err
		}
		chs, err := p.cells.computeHosts(ctx, addr, true)
		for _, h := range chs {
			hosts = append(hosts, h.Name)
		}
		return err
	})
	return hosts, err
}

// flagMapped sets or clears the cells' compute_nodes.mapped flags (best effort: a flag left
// unset only makes the next discovery look at the host again).
func (p *Proxy) flagMapped(ctx context.Context, hosts map[string][]string, mapped bool) {
	for cell, hs := range hosts {
		for _, h := range hs {
			err := p.cellCall(ctx, cell, func(ctx context.Context, addr string) error { return p.cells.setMapped(ctx, addr, h, mapped) })
			if err != nil {
				p.logger.Warn("could not set a compute host's mapped flag", "cell", cell, "host", h, "mapped", mapped, "error", err)
			}
		}
	}
}

// DiscoverPeriodically runs discovery every DiscoverInterval until ctx ends (a leader duty).
func (p *Proxy) DiscoverPeriodically(ctx context.Context) {
	if p.cfg.DiscoverInterval <= 0 {
		return
	}
	warned := false
	t := time.NewTicker(p.cfg.DiscoverInterval)
	defer t.Stop()
	for {
		res, err := p.DiscoverHosts(ctx, api.DiscoverHosts{})
		switch {
		case errors.Is(err, ErrHostMappingExists) && !warned:
			warned = true
			p.logger.Warn("This periodic task should only be enabled if discover hosts is not run via cellmapctl", "error", err)
		case err != nil:
			p.logger.Debug("periodic discovery failed", "error", err)
		case len(res.Mapped) > 0:
			var names []string
			for _, m := range res.Mapped {
				names = append(names, m.CellUUID+":"+m.Host)
			}
			p.logger.Info(fmt.Sprintf("Discovered %d new hosts: %s", len(res.Mapped), strings.Join(names, ",")))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RescheduleLoop reschedules stale build requests until ctx ends (a leader duty).
func (p *Proxy) RescheduleLoop(ctx context.Context) {
	t := time.NewTicker(p.cfg.BuildRetryAfter / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.RescheduleStale(ctx)
		}
	}
}
