package workload

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cellmap/cellmap/jepsen/history"
	"github.com/cellmap/cellmap/jepsen/nemesis"
)

// cutTiming bounds the conductor cut's waits. Every wait polls every node's own view of the
// cell's health every Poll.
type cutTiming struct {
	// DownWait bounds the wait until every node reports the cut cell down (the design target
	// is about 3 s with the test gossip profile).
	DownWait time.Duration
	// UpWait bounds the wait until every node reports the cell up after the heal; when it runs
	// out the conductor is restarted (a fresh process rejoins the pool) and UpWait applies
	// once more.
	UpWait time.Duration
	// UpBefore bounds the wait for the cell to be up on every node before the cut (e.g. while
	// a restarted node relearns the pool); a cell that is not has its conductor restarted
	// (recorded), and one that is still not up after UpWait is not cut (skipped).
	UpBefore time.Duration
	// KeepMin and KeepMax bound how long the cell stays cut once every node saw it down.
	KeepMin, KeepMax time.Duration
	Poll             time.Duration
	// Deletes is how many known servers of the cut cell the cut deletes inside its window;
	// KnownWait bounds making them known (creating and listing them) before the cut.
	Deletes   int
	KnownWait time.Duration
}

func defaultCutTiming() cutTiming {
	return cutTiming{DownWait: 15 * time.Second, UpWait: 6 * time.Second, UpBefore: 5 * time.Second,
		KeepMin: 5 * time.Second, KeepMax: 9 * time.Second, Poll: 200 * time.Millisecond,
		Deletes: 3, KnownWait: 6 * time.Second}
}

// conductorCut cuts one cell's conductor off from everything (gossip and HTTP: all its
// packets dropped, its TCP connections aborted), holds until every node reports the cell
// down, keeps it so for a while, then heals and waits until every node reports it up again.
// It records when the cell was seen down on all nodes, when the heal began and when the cell
// was up again (history.PhaseCellDown, PhaseHeal, PhaseCellUp), for the cells checker.
// Inside the window it lists and deletes known servers of the cut cell itself, through the
// workload w (see cutprobe.go).
type conductorCut struct {
	t cutTiming
	w *Cells
}

func (conductorCut) Name() string { return ConductorCut }

func (n conductorCut) Start(ctx context.Context, env nemesis.Env, rng *rand.Rand) (*nemesis.Fault, error) {
	he, ok := env.(HostsEnv)
	if !ok {
		return nil, fmt.Errorf("%w: %s needs the hosts of the cells workload", nemesis.ErrSkipped, ConductorCut)
	}
	h := he.Hosts()
	cell := CellSpecs()[rng.IntN(len(CellSpecs()))]
	keep := n.t.KeepMin + time.Duration(rng.Int64N(int64(n.t.KeepMax-n.t.KeepMin)+1))
	keep = keep.Round(100 * time.Millisecond)
	if !h.Running(cell.Name) {
		return nil, fmt.Errorf("%w: conductor %s is not running", nemesis.ErrSkipped, cell.Name)
	}
	c := &cut{env: he, hosts: h, w: n.w, cell: cell, keep: keep, t: n.t}
	if st, _, ok := c.waitAll(ctx, "up", c.t.UpBefore); !ok {
		// The pool lost the conductor earlier (e.g. every node was restarted): bring it back
		// first, recorded like the workload's own recovery, or the cut would prove nothing.
		err := h.Restart(cell.Name)
		he.Record(history.Event{Kind: history.KindPhase, F: history.PhaseCellsRecovery, Detail: fmt.Sprintf(
			"%s not up on every node before a conductor cut (%s); conductor restarted: %s", cell.Name, describeStatuses(st), errText(err))})
		if st, _, ok := c.waitAll(ctx, "up", c.t.UpWait); !ok {
			return nil, fmt.Errorf("%w: cell %s is not up on every node before the cut, even after restarting its conductor (%s)",
				nemesis.ErrSkipped, cell.Name, describeStatuses(st))
		}
	}
	known, err := n.w.takeKnown(ctx, cell, n.t.Deletes, n.t.KnownWait, n.t.Poll)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", nemesis.ErrSkipped, err)
	}
	c.known = known
	f := &nemesis.Fault{Targets: []string{cell.Name},
		Detail: fmt.Sprintf("conductor %s (cell %s) cut off: every packet dropped, TCP connections aborted; kept %v after every node reports the cell down; %d known servers of the cell to delete meanwhile",
			cell.Name, cell.UUID, keep, len(known)),
		Hold: c.hold, Stop: c.stop}
	c.cutAt = time.Now()
	if err := h.Isolate(ctx, cell.Name); err != nil {
		n.w.release(known...)
		c.known = nil
		return f, err
	}
	return f, nil
}

// cut is one conductor cut in progress.
type cut struct {
	env   HostsEnv
	hosts Hosts
	w     *Cells
	// known are the servers of the cell taken to be deleted inside the window.
	known []string
	cell  CellSpec
	keep  time.Duration
	t     cutTiming
	cutAt time.Time
	// over: the episode ended (or the run was interrupted) during the hold; the heal then
	// does not wait for the cell (the episode's final phase, or the teardown, takes over).
	over bool
}

func (c *cut) record(phase, detail string, data history.CellEvent) {
	data.Cell, data.Conductor = c.cell.UUID, c.cell.Name
	b, _ := json.Marshal(data)
	c.env.Record(history.Event{Kind: history.KindNemesis, F: ConductorCut, Phase: phase, Targets: []string{c.cell.Name},
		Detail: detail, Data: b})
}

// waitAll polls every node until all report the cell in state want, or d passed or ctx ended.
func (c *cut) waitAll(ctx context.Context, want string, d time.Duration) (map[string]string, time.Duration, bool) {
	start := time.Now()
	deadline := start.Add(d)
	var st map[string]string
	for i := 0; i < 100000; i++ {
		st = CellStatuses(ctx, c.env.Nodes(), c.env.Client, c.cell.UUID)
		if allAre(st, want) {
			return st, time.Since(start), true
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(c.t.Poll):
		}
	}
	return st, time.Since(start), false
}

func (c *cut) hold(ctx context.Context) string {
	defer func() {
		c.over = ctx.Err() != nil
		c.w.release(c.known...) // the window never opened: nothing deleted them
		c.known = nil
	}()
	st, waited, ok := c.waitAll(ctx, "down", c.t.DownWait)
	if !ok {
		if ctx.Err() != nil {
			return "the episode ended before every node reported the cell down"
		}
		note := fmt.Sprintf("cell %s not reported down by every node within %v of the cut: %s", c.cell.Name, c.t.DownWait, describeStatuses(st))
		c.record(history.PhaseCellDownTimeout, note, history.CellEvent{Statuses: st, WaitedMS: waited.Milliseconds()})
		return note
	}
	note := fmt.Sprintf("every node reported cell %s down %.2fs after the cut", c.cell.Name, time.Since(c.cutAt).Seconds())
	c.record(history.PhaseCellDown, note, history.CellEvent{Statuses: st, WaitedMS: time.Since(c.cutAt).Milliseconds()})
	known := c.known
	c.known = nil
	note += "; " + c.w.exerciseCut(known)
	select {
	case <-ctx.Done():
	case <-time.After(c.keep):
	}
	return note
}

func (c *cut) stop(ctx context.Context) (string, error) {
	c.record(history.PhaseHeal, "removing the filter of "+c.cell.Name, history.CellEvent{})
	if err := c.hosts.Heal(ctx, c.cell.Name); err != nil {
		return "heal failed", err
	}
	if c.over {
		return "healed; the episode is over, so the final phase checks that the cell comes back", nil
	}
	healed := time.Now()
	st, _, ok := c.waitAll(ctx, "up", c.t.UpWait)
	if ok {
		note := fmt.Sprintf("healed; every node reported cell %s up %.2fs later", c.cell.Name, time.Since(healed).Seconds())
		c.record(history.PhaseCellUp, note, history.CellEvent{Statuses: st, WaitedMS: time.Since(healed).Milliseconds()})
		return note, nil
	}
	note := fmt.Sprintf("healed, but cell %s was not reported up by every node within %v (%s): the pool did not take the conductor back; restarting it",
		c.cell.Name, c.t.UpWait, describeStatuses(st))
	c.record(history.PhaseCellUpTimeout, note, history.CellEvent{Statuses: st, WaitedMS: time.Since(healed).Milliseconds()})
	if err := c.hosts.Restart(c.cell.Name); err != nil {
		return note, fmt.Errorf("restart conductor %s: %w", c.cell.Name, err)
	}
	restarted := time.Now()
	st, _, ok = c.waitAll(ctx, "up", c.t.UpWait)
	if ok {
		up := fmt.Sprintf("every node reported cell %s up %.2fs after the conductor was restarted", c.cell.Name, time.Since(restarted).Seconds())
		c.record(history.PhaseCellUp, up, history.CellEvent{Statuses: st, Restarted: true, WaitedMS: time.Since(healed).Milliseconds()})
		return note + "; " + up, nil
	}
	again := fmt.Sprintf("cell %s still not up on every node %v after restarting its conductor: %s", c.cell.Name, c.t.UpWait, describeStatuses(st))
	c.record(history.PhaseCellUpTimeout, again, history.CellEvent{Statuses: st, Restarted: true, WaitedMS: time.Since(healed).Milliseconds()})
	return note + "; " + again, nil
}
