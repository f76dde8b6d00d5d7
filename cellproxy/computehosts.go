package cellproxy

import (
	"context"
	"sort"
	"sync"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// ComputeHosts reports every cell's compute hosts (cell0 has none), the cells asked in
// parallel under one deadline: an up cell's from its conductor, with capacity and usage; a
// down cell's, or one that does not answer, from its host mappings with Up false.
func (p *Proxy) ComputeHosts(ctx context.Context) ([]api.CellHosts, error) {
	var cells []*fsm.Cell
	mapped := map[string][]string{}
	err := p.read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		if cells, err = r.Cells(); err != nil {
			return err
		}
		for _, c := range cells {
			hs, err := r.HostMappings(c.UUID)
			if err != nil {
				return err
			}
			for _, h := range hs {
				mapped[c.UUID] = append(mapped[c.UUID], h.Host)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	conductors := map[string][]api.Conductor{}
	for _, c := range p.registry.Conductors() {
		conductors[c.CellUUID] = append(conductors[c.CellUUID], c)
	}
	gctx, cancel := context.WithTimeout(ctx, p.cfg.ListTimeout)
	defer cancel()
	var out []api.CellHosts
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range cells {
		if c.IsCell0() {
			continue
		}
		wg.Add(1)
		go func(c *fsm.Cell) {
			defer wg.Done()
			ch := p.cellComputeHosts(gctx, c, mapped[c.UUID])
			ch.Conductors = conductors[c.UUID]
			mu.Lock()
			out = append(out, ch)
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool {
		return out[i].CellName < out[j].CellName || (out[i].CellName == out[j].CellName && out[i].CellUUID < out[j].CellUUID)
	})
	return out, nil
}

// cellComputeHosts asks one cell for its compute hosts; a down cell answers with its host mappings.
func (p *Proxy) cellComputeHosts(ctx context.Context, c *fsm.Cell, mapped []string) api.CellHosts {
	ch := api.CellHosts{CellUUID: c.UUID, CellName: c.Name}
	if p.registry.Up(c.UUID) {
		var hosts []api.ComputeHost
		err := p.cellCall(ctx, c.UUID, func(ctx context.Context, addr string) error {
			var err error
			hosts, err = p.cells.computeHosts(ctx, addr, false)
			return err
		})
		if err == nil {
			ch.Up, ch.Hosts = true, hosts
			return ch
		}
		p.logger.Warn("cell did not list its compute hosts", "cell", c.UUID, "error", err)
	}
	for _, h := range mapped {
		ch.Hosts = append(ch.Hosts, api.ComputeHost{Name: h, Mapped: true})
	}
	return ch
}
