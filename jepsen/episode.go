package jepsen

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cellmap/cellmap/jepsen/check"
	"github.com/cellmap/cellmap/jepsen/cluster"
	"github.com/cellmap/cellmap/jepsen/history"
	"github.com/cellmap/cellmap/jepsen/nemesis"
	"github.com/cellmap/cellmap/jepsen/netns"
	"github.com/cellmap/cellmap/jepsen/workload"
)

// execute forms the cluster and runs the episodes, recording everything.
func (r *runner) execute(ctx context.Context) {
	info := runStart{
		RunInfo: r.runInfo(), Episodes: r.cfg.Episodes, EpisodeTime: r.cfg.EpisodeTime.String(), Nemeses: r.names,
		UnsafeReads: r.cfg.UnsafeReads, FaultQuota: r.cfg.FaultQuota, Rate: r.cfg.Rate, Netem: r.env.netem, Plans: r.plans, Started: r.start,
	}
	data, _ := json.Marshal(info)
	r.rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseRunStart, Data: data})
	if !r.env.netem {
		r.logf("no netem on this kernel: the latency nemesis uses cellmapd's user-space fault injection")
	}
	pollCtx, stopPoll := context.WithCancel(ctx)
	var wg sync.WaitGroup
	r.goSafe(&wg, "status poller", func() { r.cl.Poll(pollCtx, r.rec, r.cfg.StatusEvery) })
	defer func() {
		stopPoll()
		wg.Wait()
	}()
	r.logf("forming the cluster")
	if err := r.cl.Form(ctx, r.cfg.FormTimeout); err != nil {
		r.rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseUnhealthy, Error: err.Error()})
		r.logf("the cluster never became healthy: %v", err)
		return
	}
	r.rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseHealthy})
	// One instance of each workload serves the whole run (a workload may carry what it learnt
	// from one episode into the next).
	var ws []workload.Workload
	for _, name := range r.cfg.Workloads {
		w, err := workload.Lookup(name)
		if err != nil {
			r.setFatal(fmt.Errorf("%w: %v", ErrHarness, err))
			return
		}
		ws = append(ws, w)
	}
	if err := r.prepare(ctx, ws); err != nil {
		r.rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseSetupFailed, Error: err.Error()})
		r.logf("workload setup failed: %v", err)
		return
	}
	driver := nemesis.NewDriver(r.env, logRecorder{r})
	for _, w := range ws {
		if p, ok := w.(workload.NemesisProvider); ok {
			for _, n := range p.Nemeses() {
				driver.Register(n)
			}
		}
	}
	for ep := 1; ep <= r.cfg.Episodes; ep++ {
		if ctx.Err() != nil {
			r.logf("interrupted")
			return
		}
		r.episode(ctx, ep, driver, ws)
	}
	if ctx.Err() == nil {
		r.rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseRunEnd})
	}
}

// prepare runs the one-time setup of the workloads that have one (workload.Preparer).
func (r *runner) prepare(ctx context.Context, ws []workload.Workload) error {
	for _, w := range ws {
		p, ok := w.(workload.Preparer)
		if !ok {
			continue
		}
		r.logf("setting up the %s workload", w.Name())
		pctx, cancel := context.WithCancel(ctx)
		err := p.Prepare(ctx, r.workloadEnv(ctx, pctx, 0))
		cancel()
		if err != nil {
			return fmt.Errorf("%s setup: %w", w.Name(), err)
		}
		r.rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseSetup, Detail: w.Name()})
	}
	return nil
}

// workloadEnv is what the workloads of episode ep run against; load paces the shared limiter.
func (r *runner) workloadEnv(ctx, load context.Context, ep int) *workload.Env {
	return &workload.Env{Rec: r.rec, Nodes: r.cl.IDs(), Client: r.env.Client, Limiter: workload.NewLimiter(load, r.cfg.Rate),
		Seed: r.seed, Episode: ep, OpCtx: ctx, Hosts: r.env.hosts}
}

func (r *runner) runInfo() check.RunInfo {
	return check.RunInfo{Seed: r.seed, Nodes: r.cfg.Nodes, Workloads: r.cfg.Workloads,
		MinOpsBeforeFault: r.cfg.MinOpsBeforeFault, CheckTimeoutMS: r.cfg.CheckTimeout.Milliseconds()}
}

// episode runs one round: load and faults for EpisodeTime, then heal, converge, final reads.
func (r *runner) episode(ctx context.Context, ep int, driver *nemesis.Driver, ws []workload.Workload) {
	r.rec.SetEpisode(ep)
	plan := r.plans[ep-1]
	r.rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseEpisodeStart, Detail: plan.String()})
	r.logf("episode %d/%d: %s", ep, r.cfg.Episodes, plan)
	ectx, cancel := context.WithTimeout(ctx, r.cfg.EpisodeTime)
	defer cancel()
	wenv := r.workloadEnv(ctx, ectx, ep)
	var wg sync.WaitGroup
	for _, w := range ws {
		r.goSafe(&wg, "workload "+w.Name(), func() {
			if err := w.Run(ectx, wenv); err != nil {
				r.logf("workload %s: %v", w.Name(), err)
			}
		})
	}
	r.goSafe(&wg, "nemesis", func() { driver.Run(ectx, plan) })
	wg.Wait()
	r.rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseWorkloadStop})
	if ctx.Err() != nil {
		// Interrupted: no heal or final reads (teardown kills everything); the missing
		// run-end makes the verdict INCOMPLETE unless something already failed.
		r.rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseInterrupted})
		return
	}
	r.heal(ctx)
	r.converge(ctx)
	fctx, fcancel := context.WithTimeout(ctx, r.cfg.FinalTimeout)
	defer fcancel()
	for _, w := range ws {
		if err := w.Final(fctx, wenv); err != nil {
			r.logf("final reads of %s: %v", w.Name(), err)
		}
	}
	r.rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseEpisodeEnd})
}

// heal undoes every possible fault: filters removed, processes resumed and restarted,
// latency off, removed voters added back.
func (r *runner) heal(ctx context.Context) {
	hctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var notes []string
	for _, id := range r.cl.IDs() {
		if err := r.env.SetRules(hctx, id, netns.Rules{}); err != nil {
			notes = append(notes, fmt.Sprintf("%s rules: %v", id, err))
		}
		if r.env.netem {
			r.env.SetDelay(hctx, id, 0)
		}
		if r.cl.Running(id) {
			r.cl.Resume(id)
			dctx, dcancel := context.WithTimeout(hctx, time.Second)
			r.env.SetDelay(dctx, id, 0)
			dcancel()
			continue
		}
		if err := r.cl.Start(id); err != nil {
			notes = append(notes, fmt.Sprintf("%s restart: %v", id, err))
		} else {
			notes = append(notes, "restarted "+id)
		}
	}
	notes = append(notes, r.rejoinMissing(hctx)...)
	notes = append(notes, r.env.hosts.healAll(hctx)...)
	detail := "filters removed, nodes resumed, latency off"
	if len(notes) > 0 {
		detail += "; " + strings.Join(notes, "; ")
	}
	r.rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseHealed, Detail: detail})
}

// rejoinMissing adds every node missing from the leader's voters back.
func (r *runner) rejoinMissing(ctx context.Context) []string {
	var notes []string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		leader, st, err := r.cl.Leader(ctx)
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		voters := map[string]bool{}
		for _, v := range cluster.Voters(st) {
			voters[v] = true
		}
		missing := 0
		for _, id := range r.cl.IDs() {
			if voters[id] {
				continue
			}
			missing++
			jctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := r.env.Client(leader).Join(jctx, id, r.env.RaftAddr(id))
			cancel()
			notes = append(notes, fmt.Sprintf("rejoin %s via %s: %v", id, leader, errText(err)))
		}
		if missing == 0 {
			return notes
		}
		time.Sleep(500 * time.Millisecond)
	}
	return append(notes, "voters still incomplete after 30s")
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// converge waits for one leader and equal state on every node and records the outcome.
func (r *runner) converge(ctx context.Context) {
	conv, err := r.cl.WaitConverged(ctx, r.cfg.HealTimeout)
	if ctx.Err() != nil {
		r.rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseInterrupted})
		return
	}
	ev := history.Event{Kind: history.KindPhase, F: history.PhaseConverged}
	if conv != nil {
		final := map[string]*history.Status{}
		for id, st := range conv.Statuses {
			final[id] = cluster.StatusOf(st)
		}
		ev.Data, _ = json.Marshal(final)
		ev.Detail = "leader " + conv.Leader
	}
	if err != nil {
		ev.Error = err.Error()
		r.logf("episode did not converge: %v", err)
	} else {
		r.logf("converged: %s", ev.Detail)
	}
	r.rec.Record(ev)
}

// logRecorder records nemesis events and prints them as progress lines.
type logRecorder struct{ r *runner }

func (l logRecorder) Record(e history.Event) history.Event {
	if e.Kind == history.KindNemesis {
		l.r.mu.Lock()
		if e.Phase == history.PhaseStart {
			l.r.fault = e.Fault
		} else if e.Fault == 0 {
			e.Fault = l.r.fault // an event a nemesis recorded itself belongs to the current fault
		}
		l.r.mu.Unlock()
	}
	e = l.r.rec.Record(e)
	if e.Kind == history.KindNemesis {
		l.r.logf("fault %d %s %s %v: %s", e.Fault, e.F, e.Phase, e.Targets, e.Detail)
	}
	return e
}
