package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Run validates cfg, prepares t and runs the workload: optional preload, optional warmup,
// then the measured run, bounded by cfg.Count, cfg.Duration and MaxDuration. A workload the
// target does not offer yields a result with Skipped set and no error. Cancelling ctx ends the
// run early; operations cut short by the cancellation are not counted.
func Run(ctx context.Context, cfg *Config, t Target) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	res := newResult(cfg, t.Name())
	if err := t.Check(ctx, cfg.Workload); err != nil {
		if errors.Is(err, ErrUnsupported) {
			res.Skipped = err.Error()
			return res, nil
		}
		return nil, fmt.Errorf("bench: %s does not answer: %w", t.Name(), err)
	}
	if err := t.Setup(ctx); err != nil {
		return nil, fmt.Errorf("bench: setting up %s: %w", t.Name(), err)
	}
	revs := newRevisions(cfg.Keys)
	if cfg.Preload && cfg.Workload != WorkloadBulk {
		pre, err := preload(ctx, cfg, t, revs)
		if err != nil {
			return nil, err
		}
		res.Preload = pre
	}
	if cfg.Warmup > 0 {
		warm := *cfg
		warm.Duration, warm.Count = cfg.Warmup, 0
		if cfg.Workload == WorkloadBulk {
			warm.Duration = 0 // a bulk warmup would write the key space twice
		}
		if warm.Duration > 0 {
			if _, err := measure(ctx, &warm, t, revs); err != nil {
				return nil, err
			}
		}
	}
	cpu0, cpuErr := ProcessCPU(cfg.ServerPIDs)
	m, err := measure(ctx, cfg, t, revs)
	if err != nil {
		return nil, err
	}
	res.fill(m)
	if cpu1, err := ProcessCPU(cfg.ServerPIDs); len(cfg.ServerPIDs) > 0 && cpuErr == nil && err == nil {
		res.ServerCPUSec = cpu1 - cpu0
		if n := res.Ops + res.Conflicts; n > 0 {
			res.ServerCPUPerOpUs = res.ServerCPUSec * 1e6 / float64(n)
		}
	}
	return res, ctx.Err()
}

// runMeasured runs cfg's workload once, measured, with no check, setup, preload or warmup.
func runMeasured(ctx context.Context, cfg *Config, t Target, revs *revisions) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := measure(ctx, cfg, t, revs)
	if err != nil {
		return nil, err
	}
	res := newResult(cfg, t.Name())
	res.fill(m)
	return res, ctx.Err()
}

// preload writes keys 0..Keys-1 through transactions of BatchSize, with up to 8 batches in
// flight, and records the revision of every key.
func preload(ctx context.Context, cfg *Config, t Target, revs *revisions) (*Result, error) {
	pre := *cfg
	pre.Workload, pre.Count, pre.Duration, pre.Warmup = WorkloadBulk, int64(cfg.Keys), 0, 0
	pre.Concurrency = min(cfg.Concurrency, 8)
	res, err := runMeasured(ctx, &pre, t, revs)
	if err != nil {
		return nil, err
	}
	if res.Items < int64(cfg.Keys) {
		return res, fmt.Errorf("bench: preload wrote %d of %d keys (errors %v, e.g. %v)", res.Items, cfg.Keys, res.Errors, res.ErrorSamples)
	}
	return res, nil
}

// measurement is the raw outcome of one measured run.
type measurement struct {
	elapsed time.Duration
	workers []*workerStats
}

// runState is shared by the workers of one run.
type runState struct {
	cfg     *Config
	t       Target
	revs    *revisions
	stop    atomic.Bool
	claimed atomic.Int64 // ops (or bulk batches) handed out
	limit   int64        // most ops (batches) to hand out; 0: unlimited
	created atomic.Uint64
	prefix  uint32 // first uuid group of keys created by this run
	batches int64  // bulk: number of batches
	bulkN   int64  // bulk: number of mappings
}

func measure(ctx context.Context, cfg *Config, t Target, revs *revisions) (*measurement, error) {
	rs := &runState{cfg: cfg, t: t, revs: revs, limit: cfg.Count}
	rs.prefix = 0xc0000000 | uint32(rand.Uint64()&0x0fffffff)
	if cfg.Workload == WorkloadBulk {
		rs.bulkN = cfg.Count
		if rs.bulkN == 0 {
			rs.bulkN = int64(cfg.Keys)
		}
		rs.batches = (rs.bulkN + int64(cfg.BatchSize) - 1) / int64(cfg.BatchSize)
		rs.limit = rs.batches
	}
	d := cfg.Duration
	if d == 0 || d > MaxDuration {
		d = MaxDuration
	}
	// The clock starts before the timer is armed, so a run never reports less than its duration.
	start := time.Now()
	timer := time.AfterFunc(d, func() { rs.stop.Store(true) })
	defer timer.Stop()
	ws := make([]*workerStats, cfg.Concurrency)
	var wg sync.WaitGroup
	for w := range ws {
		ws[w] = newWorkerStats()
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rs.worker(ctx, w, ws[w])
		}(w)
	}
	wg.Wait()
	return &measurement{elapsed: time.Since(start), workers: ws}, nil
}

// claim hands out the next op (batch) number, or -1 when the run is over.
func (rs *runState) claim() int64 {
	if rs.stop.Load() {
		return -1
	}
	n := rs.claimed.Add(1) - 1
	if rs.limit > 0 && n >= rs.limit {
		return -1
	}
	return n
}

func (rs *runState) worker(ctx context.Context, w int, st *workerStats) {
	rng := rand.New(rand.NewPCG(uint64(rs.cfg.Seed), uint64(w)))
	for ctx.Err() == nil {
		n := rs.claim()
		if n < 0 {
			return
		}
		opctx, cancel := context.WithTimeout(ctx, rs.cfg.OpTimeout)
		start := time.Now()
		op, items, err := rs.op(opctx, w, n, rng)
		lat := time.Since(start)
		cancel()
		if ctx.Err() != nil {
			return // interrupted, not measured
		}
		st.record(op, lat, items, err)
	}
}

// op runs operation n of the workload; it returns the op's name and the items it wrote.
func (rs *runState) op(ctx context.Context, w int, n int64, rng *rand.Rand) (string, int64, error) {
	cfg, t := rs.cfg, rs.t
	switch cfg.Workload {
	case WorkloadLookup:
		_, err := t.Lookup(ctx, w, Key(rng.IntN(cfg.Keys)))
		return "lookup", 1, err
	case WorkloadLookupStale:
		_, err := t.LookupStale(ctx, w, Key(rng.IntN(cfg.Keys)))
		return "lookup-stale", 1, err
	case WorkloadCreate:
		i := rs.created.Add(1)
		_, err := t.Create(ctx, w, NewMapping(uuidOf(rs.prefix, i), int(i), cfg.ValueSize))
		return "create", 1, err
	case WorkloadCAS:
		return "cas", 1, rs.cas(ctx, w, rng.IntN(cfg.Keys))
	case WorkloadMixed:
		k := rng.IntN(cfg.Keys)
		if rng.Float64() < cfg.WriteRatio {
			rev, err := t.Put(ctx, w, NewMapping(Key(k), k, cfg.ValueSize))
			if err == nil {
				rs.revs.set(k, rev)
			}
			return "write", 1, err
		}
		_, err := t.Lookup(ctx, w, Key(k))
		return "read", 1, err
	case WorkloadBulk:
		return rs.bulk(ctx, w, n)
	case WorkloadList:
		n, err := t.List(ctx, w, cfg.ListProject, cfg.ListLimit)
		return "list", int64(n), err
	}
	return "", 0, fmt.Errorf("%w: workload %q", ErrInvalidConfig, cfg.Workload)
}

// cas updates key k conditionally on the revision this run last saw for it.
func (rs *runState) cas(ctx context.Context, w int, k int) error {
	rev, err := rs.t.CAS(ctx, w, NewMapping(Key(k), k, rs.cfg.ValueSize), rs.revs.get(k))
	switch {
	case err == nil:
		rs.revs.set(k, rev)
	case errors.Is(err, ErrConflict):
		rs.revs.set(k, rev) // 0 when unknown: the next cas of k reads first
	}
	return err
}

// bulk writes batch n of the bulk key range.
func (rs *runState) bulk(ctx context.Context, w int, n int64) (string, int64, error) {
	lo := n * int64(rs.cfg.BatchSize)
	hi := min(lo+int64(rs.cfg.BatchSize), rs.bulkN)
	batch := make([]Mapping, 0, hi-lo)
	for i := lo; i < hi; i++ {
		batch = append(batch, NewMapping(Key(int(i)), int(i), rs.cfg.ValueSize))
	}
	rev, err := rs.t.Bulk(ctx, w, batch)
	if err != nil {
		return "batch", 0, err
	}
	for i := lo; i < hi; i++ {
		rs.revs.set(int(i), rev)
	}
	return "batch", hi - lo, nil
}

// revisions remembers the last revision seen per key of the key space (0: unknown).
type revisions struct{ r []atomic.Uint64 }

func newRevisions(n int) *revisions { return &revisions{r: make([]atomic.Uint64, n)} }

func (v *revisions) get(k int) uint64 {
	if k < 0 || k >= len(v.r) {
		return 0
	}
	return v.r[k].Load()
}

func (v *revisions) set(k int, rev uint64) {
	if k >= 0 && k < len(v.r) {
		v.r[k].Store(rev)
	}
}

// workerStats is what one worker measured.
type workerStats struct {
	ops     map[string]*opStats
	items   int64
	samples map[string]string
}

type opStats struct {
	hist      *Histogram
	ok        int64
	conflicts int64
	errors    map[string]int64
}

func newWorkerStats() *workerStats {
	return &workerStats{ops: map[string]*opStats{}, samples: map[string]string{}}
}

func newOpStats() *opStats { return &opStats{hist: NewHistogram(), errors: map[string]int64{}} }

// record counts one op: successes and conflicts enter the latency histogram, errors do not.
func (s *workerStats) record(op string, lat time.Duration, items int64, err error) {
	o := s.ops[op]
	if o == nil {
		o = newOpStats()
		s.ops[op] = o
	}
	switch kind := Classify(err); kind {
	case "":
		o.ok++
		s.items += items
		o.hist.Record(lat)
	case KindConflict:
		o.conflicts++
		o.hist.Record(lat)
	default:
		o.errors[kind]++
		if _, ok := s.samples[kind]; !ok {
			s.samples[kind] = err.Error()
		}
	}
}
