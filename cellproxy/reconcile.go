package cellproxy

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// Quota reconciliation (a leader duty): usage is counted at the API tier, in the same
// transactions as the creates and deletes, so it needs no cell to be up. The leader still
// compares it, now and then and a few projects at a time, with what the cells hold, when every
// cell holding the project's servers is up: a server the state places in a cell that does not
// hold it, a server a cell holds that the state does not map, or a usage record changed behind
// the API's back are drift. Drift is reported (metrics, log) and, only when asked, the recorded
// usage is replaced with the recount of the state (the operator's `quota verify --fix`).

// reconcilePageSize is the page of a cell listing; maxReconcilePages bounds the servers of one
// project in one cell that a round reads (beyond that the project is skipped, with a warning).
const (
	reconcilePageSize = 1000
	maxReconcilePages = 100
)

// QuotaDrift is a project whose recorded usage differs from what its cells hold.
type QuotaDrift struct {
	ProjectID string
	// Recorded is the usage record; Counted what the cells hold of the project's servers
	// (plus its servers still building and those in cell0, which hold their claim).
	Recorded, Counted fsm.QuotaSet
	// Missing are servers the state places in a cell that does not hold them; Unknown servers
	// of the project a cell holds that the state does not map.
	Missing, Unknown []string
}

// QuotaReport is the outcome of one reconciliation round.
type QuotaReport struct {
	// Checked are the projects compared with their cells.
	Checked []string
	// Skipped have servers in a cell that is down or did not answer (or too many servers):
	// they are not judged.
	Skipped []string
	// Busy changed (a create or delete) while their cells were read: checked again next round.
	Busy  []string
	Drift []QuotaDrift
	// Fixed are drifted projects whose usage was replaced with the state's recount.
	Fixed []string
}

// projectState is what the first read of a round holds of one project.
type projectState struct {
	usage *fsm.QuotaUsage
	// servers are its mappings by uuid; flavor is nil for a server that holds no claim
	// (queued for delete, or mapped without a request spec).
	servers map[string]*claim
}

type claim struct {
	cell   string
	flavor *fsm.Flavor
}

// ReconcileQuotasLoop runs a reconciliation round every QuotaReconcileInterval (jittered by
// ±10 %) until ctx ends, walking the projects QuotaReconcileBatch at a time (a leader duty:
// it stops when leadership is lost). It reports the drift it sees to the observer.
func (p *Proxy) ReconcileQuotasLoop(ctx context.Context) {
	if p.cfg.QuotaReconcileInterval <= 0 {
		return
	}
	obs := p.cfg.observer()
	drifted := map[string]bool{}
	defer obs.QuotaDrift(0) // only the leader reports
	cursor := ""
	t := time.NewTimer(jitter(p.cfg.QuotaReconcileInterval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rep, next, err := p.ReconcileQuotas(ctx, cursor, p.cfg.QuotaReconcileBatch, p.cfg.QuotaReconcileFix)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			p.logger.Warn("quota reconciliation failed; trying again next round", "error", err)
			obs.QuotaReconciled("error")
		default:
			cursor = next
			for _, pr := range rep.Checked {
				delete(drifted, pr)
			}
			for _, d := range rep.Drift {
				if !slices.Contains(rep.Fixed, d.ProjectID) || len(d.Missing)+len(d.Unknown) > 0 {
					drifted[d.ProjectID] = true
				}
			}
			obs.QuotaDrift(len(drifted))
			obs.QuotaSkipped(len(rep.Skipped))
			switch {
			case len(rep.Fixed) > 0:
				obs.QuotaReconciled("fixed")
			case len(rep.Drift) > 0:
				obs.QuotaReconciled("drift")
			default:
				obs.QuotaReconciled("clean")
			}
		}
		t.Reset(jitter(p.cfg.QuotaReconcileInterval))
	}
}

// jitter spreads d by ±10 %.
func jitter(d time.Duration) time.Duration {
	return d - d/10 + time.Duration(rand.Int64N(int64(d/5)+1))
}

// ReconcileQuotas compares the usage of up to n projects after the project id after with
// what their cells hold, and with fix replaces a drifted usage with the state's recount. It
// returns where the next round starts ("" once every project was walked).
func (p *Proxy) ReconcileQuotas(ctx context.Context, after string, n int, fix bool) (*QuotaReport, string, error) {
	projects, states, cells, err := p.readProjects(ctx, after, n)
	if err != nil {
		return nil, after, err
	}
	next := ""
	if len(projects) == n {
		next = projects[len(projects)-1]
	}
	rep := &QuotaReport{}
	var drifts []QuotaDrift
	for _, pr := range projects {
		d, ok := p.countProject(ctx, pr, states[pr], cells)
		switch {
		case ctx.Err() != nil:
			return nil, after, ctx.Err()
		case !ok:
			rep.Skipped = append(rep.Skipped, pr)
		case d != nil:
			drifts = append(drifts, *d)
		default:
			rep.Checked = append(rep.Checked, pr)
		}
	}
	if len(drifts) > 0 {
		if err := p.confirmDrift(ctx, rep, drifts, states, fix); err != nil {
			return nil, after, err
		}
	}
	return rep, next, nil
}

// readProjects reads the next projects, their usage and servers, and the cells (not cell0).
func (p *Proxy) readProjects(ctx context.Context, after string, n int) ([]string, map[string]*projectState, []string, error) {
	var projects, cells []string
	states := map[string]*projectState{}
	err := p.read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		if projects, err = r.ProjectsAfter(after, n); err != nil {
			return err
		}
		all, err := r.Cells()
		if err != nil {
			return err
		}
		for _, c := range all {
			if !c.IsCell0() {
				cells = append(cells, c.UUID)
			}
		}
		for _, pr := range projects {
			if states[pr], err = readProject(r, pr); err != nil {
				return err
			}
		}
		return nil
	})
	return projects, states, cells, err
}

func readProject(r *fsm.Reader, project string) (*projectState, error) {
	st := &projectState{servers: map[string]*claim{}}
	var err error
	if st.usage, err = r.QuotaUsage(project); err != nil {
		return nil, err
	}
	ms, err := r.InstanceMappings(fsm.InstanceQuery{ProjectID: project})
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		s := &claim{cell: m.CellUUID}
		if !m.QueuedForDelete {
			spec, err := r.RequestSpec(m.InstanceUUID)
			if err != nil && !errors.Is(err, fsm.ErrNotFound) {
				return nil, err
			}
			if spec != nil {
				s.flavor = &spec.Spec.Flavor
			}
		}
		st.servers[m.InstanceUUID] = s
	}
	return st, nil
}

// countProject counts what the project's servers hold according to its cells. It reports
// false when a cell holding its servers is down or does not answer, and a drift (nil: none).
func (p *Proxy) countProject(ctx context.Context, project string, st *projectState, cells []string) (*QuotaDrift, bool) {
	mine := map[string]bool{} // the cells the state places the project's claiming servers in
	for _, s := range st.servers {
		if s.flavor != nil && s.cell != "" && s.cell != fsm.Cell0UUID {
			mine[s.cell] = true
		}
	}
	if len(p.downOf(mine)) > 0 {
		return nil, false
	}
	held := map[string]bool{}
	d := QuotaDrift{ProjectID: project, Recorded: st.usage.QuotaSet}
	for _, cell := range cells {
		insts, err := p.listProject(ctx, cell, project)
		if err != nil {
			if mine[cell] || errors.Is(err, errTooMany) {
				p.logger.Info("quota reconciliation skips a project: a cell holding its servers did not answer",
					"project", project, "cell", cell, "error", err)
				return nil, false
			}
			continue // a cell without its servers: it could only hold unknown ones
		}
		for _, in := range insts {
			s, mapped := st.servers[in.UUID]
			switch {
			case !mapped:
				d.Unknown = append(d.Unknown, in.UUID)
				addServer(&d.Counted, in.Flavor.VCPUs, in.Flavor.RAMMB)
			case s.cell == cell:
				held[in.UUID] = true
			}
		}
	}
	for uuid, s := range st.servers {
		switch {
		case s.flavor == nil:
		case s.cell == "" || s.cell == fsm.Cell0UUID || held[uuid]: // building, buried or in its cell
			addServer(&d.Counted, s.flavor.VCPUs, s.flavor.RAMMB)
		default:
			d.Missing = append(d.Missing, uuid)
		}
	}
	if d.Counted == d.Recorded && len(d.Missing) == 0 && len(d.Unknown) == 0 {
		return nil, true
	}
	slices.Sort(d.Missing)
	slices.Sort(d.Unknown)
	return &d, true
}

func addServer(q *fsm.QuotaSet, vcpus, ramMB int64) {
	q.Instances, q.Cores, q.RAMMB = q.Instances+1, q.Cores+vcpus, q.RAMMB+ramMB
}

// errTooMany: a project has more servers in one cell than a round reads.
var errTooMany = errors.New("more servers than a reconciliation round reads")

// listProject lists the project's servers that are not deleted in one cell.
func (p *Proxy) listProject(ctx context.Context, cell, project string) ([]api.Instance, error) {
	var out []api.Instance
	q := url.Values{"project_id": {project}, "sort_key": {"uuid"}, "sort_dir": {"asc"}, "limit": {strconv.Itoa(reconcilePageSize)}}
	for page := 0; page < maxReconcilePages; page++ {
		var insts []api.Instance
		err := p.cellCall(ctx, cell, func(ctx context.Context, addr string) error {
			var err error
			insts, err = p.cells.list(ctx, addr, q)
			return err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, insts...)
		if len(insts) < reconcilePageSize {
			return out, nil
		}
		q.Set("marker", insts[len(insts)-1].UUID)
	}
	return nil, errTooMany
}

// confirmDrift reads the state again: a project whose usage record changed while its cells
// were read is busy, not drifted (a create or delete was under way). The others are reported,
// and with fix their usage is replaced with the state's recount, conditioned on the record read.
func (p *Proxy) confirmDrift(ctx context.Context, rep *QuotaReport, drifts []QuotaDrift, states map[string]*projectState, fix bool) error {
	var ops []fsm.Op
	var fixing []string
	err := p.read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		for _, d := range drifts {
			u, err := r.QuotaUsage(d.ProjectID)
			if err != nil {
				return err
			}
			if u.Revision != states[d.ProjectID].usage.Revision {
				rep.Busy = append(rep.Busy, d.ProjectID)
				continue
			}
			rep.Drift = append(rep.Drift, d)
			p.logger.Warn("quota usage drifted from the cells' records", "project", d.ProjectID,
				"recorded", d.Recorded, "counted", d.Counted, "missing", d.Missing, "unknown", d.Unknown)
			recount, err := r.ProjectUsage(d.ProjectID)
			if err != nil {
				return err
			}
			if fix && recount != u.QuotaSet {
				ops = append(ops, fsm.UsageFixOp(d.ProjectID, u, recount))
				fixing = append(fixing, d.ProjectID)
			}
		}
		return nil
	})
	if err != nil || len(ops) == 0 {
		return err
	}
	if _, err := p.apply(ctx, &fsm.Txn{Ops: ops}); err != nil {
		p.logger.Warn("could not fix drifted quota usage; trying again next round", "projects", fixing, "error", err)
		return nil
	}
	rep.Fixed = fixing
	p.logger.Info("replaced drifted quota usage with the state's recount", "projects", fixing)
	return nil
}
