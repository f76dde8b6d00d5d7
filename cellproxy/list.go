package cellproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"sync"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// Listing limits (Nova's [api]max_limit).
const (
	defaultLimit = 1000
	maxLimit     = 1000
)

// listState is the replicated part of a listing, read in one transaction.
type listState struct {
	cells  []*fsm.Cell
	builds []api.Server
	cell0  []api.Server
	marker *serverState
}

// ListServers lists servers across cells: every up cell is asked in parallel under one deadline
// (a cell known to be down is not asked), build requests come first, then the cells' servers
// merged in the requested order with cell0's, limit and marker applied across all of them.
// Down or late cells are named in DownCells; without sort, limit or marker their non-deleted
// servers appear first as minimal records (Nova 2.69).
func (p *Proxy) ListServers(ctx context.Context, q api.ServerQuery) (*api.ServerList, error) {
	spec, err := parseSort(q.SortKeys, q.SortDirs)
	if err != nil {
		return nil, err
	}
	if !q.AllTenants && q.ProjectID == "" {
		return nil, fmt.Errorf("project_id is required unless all_tenants is set: %w", ErrInvalid)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	project := q.ProjectID
	if q.AllTenants {
		project = ""
	}
	st, err := p.readListState(ctx, project, q.Marker)
	if err != nil {
		return nil, err
	}
	pos, brMarker, err := p.markerPosition(ctx, st)
	if err != nil {
		return nil, err
	}
	builds := p.buildsAfter(st.builds, spec, brMarker, pos != nil)
	rows, down := p.gather(ctx, st.cells, spec, project, limit, pos)
	rows, err = p.hideQueued(ctx, rows)
	if err != nil {
		return nil, err
	}
	rows = append(rows, after(st.cell0, spec, pos)...)
	sort.SliceStable(rows, func(i, j int) bool { return spec.compare(&rows[i], &rows[j]) < 0 })
	out := &api.ServerList{DownCells: down, Servers: []api.Server{}}
	if len(down) > 0 {
		p.cfg.observer().DownCellListing()
	}
	if !q.Paged && len(down) > 0 {
		mins, err := p.minimalRecords(ctx, down, project)
		if err != nil {
			return nil, err
		}
		out.Servers = append(out.Servers, mins...)
	}
	out.Servers = append(out.Servers, builds...)
	out.Servers = append(out.Servers, rows...)
	out.Servers = dedupe(out.Servers)
	if len(out.Servers) > limit {
		out.Servers = out.Servers[:limit]
	}
	return out, nil
}

// readListState reads the replicated part of a listing, the marker's records included, in one
// linearizable read.
func (p *Proxy) readListState(ctx context.Context, project, marker string) (*listState, error) {
	st := &listState{}
	err := p.read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		if st.cells, err = r.Cells(); err != nil {
			return err
		}
		brs, err := r.BuildRequests(project)
		if err != nil {
			return err
		}
		for _, br := range brs {
			st.builds = append(st.builds, fromBuildRequest(br))
		}
		c0s, err := r.Cell0Instances(project)
		if err != nil {
			return err
		}
		for _, c := range c0s {
			if m, err := r.InstanceMapping(c.InstanceUUID); err == nil && !m.QueuedForDelete {
				st.cell0 = append(st.cell0, fromCell0(c))
			}
		}
		if marker == "" {
			return nil
		}
		st.marker, err = serverStateIn(r, marker)
		if errors.Is(err, fsm.ErrNotFound) {
			return fmt.Errorf("marker [%s] not found: %w", marker, ErrMarkerNotFound)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// markerPosition returns the marker server (its sort position among cell servers), or, when
// the marker is a build request, that build request's uuid.
func (p *Proxy) markerPosition(ctx context.Context, st *listState) (*api.Server, string, error) {
	if st.marker == nil {
		return nil, "", nil
	}
	m := st.marker.mapping
	switch {
	case m.CellUUID == "" && st.marker.build != nil:
		return nil, m.InstanceUUID, nil
	case m.CellUUID == "":
		return nil, "", fmt.Errorf("marker [%s] not found: %w", m.InstanceUUID, ErrMarkerNotFound)
	case m.CellUUID == fsm.Cell0UUID:
		if st.marker.cell0 == nil {
			return nil, "", fmt.Errorf("marker [%s] not found: %w", m.InstanceUUID, ErrMarkerNotFound)
		}
		s := fromCell0(st.marker.cell0)
		return &s, "", nil
	}
	var inst *api.Instance
	err := p.cellCall(ctx, m.CellUUID, func(ctx context.Context, addr string) error {
		var err error
		inst, err = p.cells.get(ctx, addr, m.InstanceUUID, true)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, "", fmt.Errorf("marker [%s] not found: %w", m.InstanceUUID, ErrMarkerNotFound)
	}
	if err != nil {
		return nil, "", &CellsError{Cells: []string{m.CellUUID}, Err: fmt.Errorf("marker [%s] is in cell %s: %w", m.InstanceUUID, m.CellUUID, ErrCellDown)}
	}
	s := fromInstance(inst, m.CellUUID)
	return &s, "", nil
}

// buildsAfter sorts the build requests and applies a build-request marker. A marker among the
// cells' servers drops the build requests (they all come before it, as in Nova).
func (p *Proxy) buildsAfter(builds []api.Server, spec sortSpec, marker string, cellMarker bool) []api.Server {
	if cellMarker {
		return nil
	}
	sort.SliceStable(builds, func(i, j int) bool { return spec.compare(&builds[i], &builds[j]) < 0 })
	if marker == "" {
		return builds
	}
	for i := range builds {
		if builds[i].ID == marker {
			return builds[i+1:]
		}
	}
	return nil
}

// after keeps the servers strictly after pos (all of them when pos is nil).
func after(servers []api.Server, spec sortSpec, pos *api.Server) []api.Server {
	if pos == nil {
		return servers
	}
	var out []api.Server
	for i := range servers {
		if spec.compare(&servers[i], pos) > 0 {
			out = append(out, servers[i])
		}
	}
	return out
}

// gather asks every up cell (cell0 excluded) in parallel under one deadline and returns their
// servers and the cells that were down or did not answer.
func (p *Proxy) gather(ctx context.Context, cells []*fsm.Cell, spec sortSpec, project string, limit int, pos *api.Server) ([]api.Server, []string) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	keys, dirs := spec.conductorKeys()
	q["sort_key"], q["sort_dir"] = keys, dirs
	if project != "" {
		q.Set("project_id", project)
	}
	if pos != nil {
		b, _ := json.Marshal(spec.after(pos))
		q.Set("after", string(b))
	}
	gctx, cancel := context.WithTimeout(ctx, p.cfg.ListTimeout)
	defer cancel()
	var mu sync.Mutex
	var rows []api.Server
	down := []string{}
	var wg sync.WaitGroup
	for _, c := range cells {
		if c.IsCell0() {
			continue
		}
		if !p.registry.Up(c.UUID) {
			mu.Lock() // the goroutines of the cells before it may be appending
			down = append(down, c.UUID)
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func(cell string) {
			defer wg.Done()
			var insts []api.Instance
			err := p.cellCall(gctx, cell, func(ctx context.Context, addr string) error {
				var err error
				insts, err = p.cells.list(ctx, addr, q)
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				p.logger.Warn("cell did not answer the listing", "cell", cell, "error", err)
				down = append(down, cell)
				return
			}
			for i := range insts {
				rows = append(rows, fromInstance(&insts[i], cell))
			}
		}(c.UUID)
	}
	wg.Wait()
	sort.Strings(down)
	return rows, down
}

// minimalRecords lists the non-deleted servers of down cells as minimal records.
func (p *Proxy) minimalRecords(ctx context.Context, cells []string, project string) ([]api.Server, error) {
	var out []api.Server
	// LocalUnchecked: the listing's linearizable read came first and the local state only moves forward.
	err := p.read(ctx, node.LocalUnchecked{}, func(r *fsm.Reader) error {
		for _, cell := range cells {
			ms, err := r.InstanceMappings(fsm.InstanceQuery{CellUUID: cell, ProjectID: project, NotDeletedOnly: true})
			if err != nil {
				return err
			}
			for _, m := range ms {
				rs, _ := r.RequestSpec(m.InstanceUUID)
				out = append(out, minimal(m, rs))
			}
		}
		return nil
	})
	return out, err
}

// dedupe keeps the first server of each id.
func dedupe(servers []api.Server) []api.Server {
	seen := make(map[string]bool, len(servers))
	out := servers[:0]
	for _, s := range servers {
		if !seen[s.ID] {
			seen[s.ID] = true
			out = append(out, s)
		}
	}
	return out
}
