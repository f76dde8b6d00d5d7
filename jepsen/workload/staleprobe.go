package workload

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cellmap/cellmap/jepsen/history"
	"github.com/cellmap/cellmap/jepsen/nemesis"
)

// IsolateLeader is the nemesis the register workload brings its stale-read probe to.
const IsolateLeader = "isolate-leader"

// Nemeses implements NemesisProvider: isolate-leader with a stale-read probe.
func (r *Register) Nemeses() []nemesis.Nemesis {
	spec, err := nemesis.Lookup(IsolateLeader)
	if err != nil {
		return nil
	}
	return []nemesis.Nemesis{staleProbe{inner: spec.New(), r: r, poll: 100 * time.Millisecond}}
}

// staleProbe is isolate-leader that does not leave the proof of a stale read to the random
// load: before the cut it writes a fresh register key through the leader, and while the old
// leader is cut off it waits for a new leader among the others, writes the key again there and
// reads it through the old leader. The read began after the second write was acknowledged,
// so a node that serves reads without confirming its leadership answers with the first value
// and the linearizability checker fails the run; a correct node refuses (or times out) and
// the read, a failure, is dropped.
type staleProbe struct {
	inner nemesis.Nemesis
	r     *Register
	poll  time.Duration
}

func (p staleProbe) Name() string { return p.inner.Name() }

func (p staleProbe) Start(ctx context.Context, env nemesis.Env, rng *rand.Rand) (*nemesis.Fault, error) {
	w := p.r.prober()
	if w != nil {
		if leader, err := env.Leader(ctx); err == nil {
			w.node = leader
			if !w.write(3) {
				w = nil
			}
		} else {
			w = nil
		}
	}
	f, err := p.inner.Start(ctx, env, rng)
	if err != nil || f == nil || len(f.Targets) != 1 || w == nil {
		return f, err
	}
	old := f.Targets[0]
	f.During = func(ctx context.Context) string { return w.probe(ctx, env, old, p.poll) }
	return f, nil
}

// prober returns a sequential register client for one probe, on a key of its own (nil
// before the workload ran).
func (r *Register) prober() *regWorker {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.env == nil {
		return nil
	}
	r.probes++
	return &regWorker{cfg: r.cfg, env: r.env, process: r.env.Rec.NewProcess(), seen: map[string]uint64{},
		key: uuidFrom(rand.New(rand.NewPCG(r.env.Seed^0x70726f6265, uint64(r.env.Episode)<<20|uint64(r.probes)))),
		id:  fmt.Sprintf("probe-e%d-%d", r.env.Episode, r.probes)}
}

// write writes the worker's key through its node until acknowledged, at most tries times.
func (w *regWorker) write(tries int) bool {
	for i := 0; i < tries; i++ {
		kind := w.op(w.key, FWrite)
		if kind == history.KindOK {
			return true
		}
		if kind == history.KindInfo {
			w.process = w.env.Rec.NewProcess()
		}
	}
	return false
}

// probe runs inside the cut of old: a new leader among the others, the key written through
// it, then read through old. It returns a note for the history.
func (w *regWorker) probe(ctx context.Context, env nemesis.Env, old string, poll time.Duration) string {
	leader := ""
	for i := 0; i < 100000 && leader == "" && ctx.Err() == nil; i++ {
		for _, id := range env.Nodes() {
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			st, err := env.Status(sctx, id)
			cancel()
			if id != old && err == nil && st.State == "Leader" {
				leader = id
				break
			}
		}
		if leader == "" {
			select {
			case <-ctx.Done():
			case <-time.After(poll):
			}
		}
	}
	if leader == "" {
		return fmt.Sprintf("stale-read probe of key %s: no new leader while %s was cut off", w.key, old)
	}
	w.node = leader
	if !w.write(3) {
		return fmt.Sprintf("stale-read probe of key %s: the write through the new leader %s was not acknowledged", w.key, leader)
	}
	w.node = old
	kind := w.op(w.key, FRead)
	return fmt.Sprintf("stale-read probe: key %s written through the new leader %s, then read through the cut-off %s: %s", w.key, leader, old, kind)
}
