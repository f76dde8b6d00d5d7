package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cellmap/cellmap/jepsen/history"
)

// Recorder is where the driver writes nemesis events.
type Recorder interface {
	Record(e history.Event) history.Event
}

// Driver executes plans against an environment, one fault at a time, recording a start and
// a stop event for each (Fault numbers pair them).
type Driver struct {
	env   Env
	rec   Recorder
	byNm  map[string]Nemesis
	fault int
	// StopTimeout bounds undoing one fault.
	StopTimeout time.Duration
}

// NewDriver returns a driver for env that records into rec.
func NewDriver(env Env, rec Recorder) *Driver {
	d := &Driver{env: env, rec: rec, byNm: map[string]Nemesis{}, StopTimeout: 45 * time.Second}
	for _, s := range Catalog() {
		d.byNm[s.Name] = s.New()
	}
	return d
}

// Register adds (or replaces) a nemesis, e.g. one a workload brings along.
func (d *Driver) Register(n Nemesis) { d.byNm[n.Name()] = n }

// Faults is the number of faults started so far.
func (d *Driver) Faults() int { return d.fault }

// Run executes plan until it is done or ctx ends. A fault that is active when ctx ends is
// stopped before Run returns.
func (d *Driver) Run(ctx context.Context, plan Plan) {
	for _, step := range plan.Steps {
		if !wait(ctx, step.Gap) {
			return
		}
		d.step(ctx, step)
		if ctx.Err() != nil {
			return
		}
	}
}

func (d *Driver) step(ctx context.Context, step Step) {
	nem, ok := d.byNm[step.Name]
	if !ok {
		d.rec.Record(history.Event{Kind: history.KindPhase, F: "nemesis-unknown", Detail: step.Name})
		return
	}
	d.fault++
	id := d.fault
	rng := rand.New(rand.NewPCG(step.Seed, uint64(id)))
	startCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	f, err := nem.Start(startCtx, d.env, rng)
	cancel()
	ev := history.Event{Kind: history.KindNemesis, F: step.Name, Phase: history.PhaseStart, Fault: id}
	if f != nil {
		ev.Targets, ev.Detail = f.Targets, f.Detail
	}
	if err != nil {
		prefix := "error: "
		if errors.Is(err, ErrSkipped) {
			prefix = "skipped: "
		}
		ev.Detail = prefix + err.Error()
	}
	d.rec.Record(ev)
	note := ""
	if err == nil {
		note = d.hold(ctx, f, step.Hold)
	}
	stop := history.Event{Kind: history.KindNemesis, F: step.Name, Phase: history.PhaseStop, Fault: id, Detail: note}
	if f != nil && f.Stop != nil {
		sctx, cancel := context.WithTimeout(context.Background(), d.StopTimeout)
		out, serr := f.Stop(sctx)
		cancel()
		stop.Detail = join(note, out)
		if serr != nil {
			stop.Detail = join(stop.Detail, "stop error: "+serr.Error())
		}
	}
	if f != nil {
		stop.Targets = f.Targets
	}
	d.rec.Record(stop)
}

// GoalHoldMax bounds a goal-driven fault (e.g. partition-snapshot).
const GoalHoldMax = 30 * time.Second

func (d *Driver) hold(ctx context.Context, f *Fault, planned time.Duration) string {
	if f.Hold == nil {
		start, note := time.Now(), ""
		if f.During != nil {
			dctx, cancel := context.WithTimeout(ctx, GoalHoldMax)
			note = f.During(dctx)
			cancel()
		}
		wait(ctx, planned-time.Since(start))
		return note
	}
	hctx, cancel := context.WithTimeout(ctx, max(planned, GoalHoldMax))
	defer cancel()
	return f.Hold(hctx)
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return fmt.Sprintf("%s; %s", a, b)
}

// wait sleeps d; it returns false when ctx ended first.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
