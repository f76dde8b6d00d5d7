package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeTarget is an in-memory target: a map of key -> revision, with an op delay and
// injectable failures.
type fakeTarget struct {
	mu      sync.Mutex
	rev     uint64
	keys    map[string]uint64
	delay   time.Duration
	fail    func(op string, n int64) error // nil: no failures
	ops     atomic.Int64
	batches [][]Mapping
	workers sync.Map // worker ids seen
	listErr error
}

func newFake() *fakeTarget { return &fakeTarget{keys: map[string]uint64{}} }

func (f *fakeTarget) Name() string                { return "fake" }
func (f *fakeTarget) Setup(context.Context) error { return nil }
func (f *fakeTarget) Close() error                { return nil }
func (f *fakeTarget) Check(_ context.Context, w string) error {
	if w == WorkloadList && f.listErr != nil {
		return f.listErr
	}
	return nil
}

func (f *fakeTarget) step(ctx context.Context, op string, w int) error {
	f.workers.Store(w, true)
	n := f.ops.Add(1)
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.fail != nil {
		return f.fail(op, n)
	}
	return nil
}

func (f *fakeTarget) read(ctx context.Context, w int, key string) (uint64, error) {
	if err := f.step(ctx, "read", w); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rev, ok := f.keys[key]
	if !ok {
		return 0, ErrNotFound
	}
	return rev, nil
}

func (f *fakeTarget) write(key string) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rev++
	f.keys[key] = f.rev
	return f.rev
}

func (f *fakeTarget) Lookup(ctx context.Context, w int, key string) (uint64, error) {
	return f.read(ctx, w, key)
}

func (f *fakeTarget) LookupStale(ctx context.Context, w int, key string) (uint64, error) {
	return f.read(ctx, w, key)
}

func (f *fakeTarget) Create(ctx context.Context, w int, m Mapping) (uint64, error) {
	if err := f.step(ctx, "create", w); err != nil {
		return 0, err
	}
	f.mu.Lock()
	_, exists := f.keys[m.Key]
	f.mu.Unlock()
	if exists {
		return 0, ErrConflict
	}
	return f.write(m.Key), nil
}

func (f *fakeTarget) Put(ctx context.Context, w int, m Mapping) (uint64, error) {
	if err := f.step(ctx, "put", w); err != nil {
		return 0, err
	}
	return f.write(m.Key), nil
}

func (f *fakeTarget) CAS(ctx context.Context, w int, m Mapping, rev uint64) (uint64, error) {
	if err := f.step(ctx, "cas", w); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := f.keys[m.Key]
	if rev != 0 && rev != cur {
		return cur, ErrConflict
	}
	f.rev++
	f.keys[m.Key] = f.rev
	return f.rev, nil
}

func (f *fakeTarget) Bulk(ctx context.Context, w int, batch []Mapping) (uint64, error) {
	if err := f.step(ctx, "bulk", w); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rev++
	for _, m := range batch {
		f.keys[m.Key] = f.rev
	}
	f.batches = append(f.batches, batch)
	return f.rev, nil
}

func (f *fakeTarget) List(ctx context.Context, w int, _ string, limit int) (int, error) {
	return limit, f.step(ctx, "list", w)
}

func testConfig(workload string) *Config {
	c := DefaultConfig()
	c.Workload, c.Keys, c.Concurrency, c.Duration, c.Count = workload, 100, 4, 0, 200
	return c
}

func TestRunCountIsExact(t *testing.T) {
	for _, w := range []string{WorkloadLookup, WorkloadLookupStale, WorkloadCreate, WorkloadCAS, WorkloadMixed, WorkloadList} {
		t.Run(w, func(t *testing.T) {
			f := newFake()
			cfg := testConfig(w)
			cfg.Preload = true
			res, err := Run(context.Background(), cfg, f)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Ops + res.Conflicts + res.ErrorCount(); got != 200 {
				t.Fatalf("ops+conflicts+errors = %d, want 200 (%+v)", got, res)
			}
			if res.ErrorCount() != 0 {
				t.Fatalf("errors %v %v", res.Errors, res.ErrorSamples)
			}
			if res.Preload == nil || res.Preload.Items != 100 {
				t.Fatalf("preload = %+v, want 100 items", res.Preload)
			}
			if res.Latency.P50 <= 0 || res.Latency.Max < res.Latency.P99 {
				t.Fatalf("latency %+v", res.Latency)
			}
		})
	}
}

func TestRunDurationBounded(t *testing.T) {
	f := newFake()
	f.delay = time.Millisecond
	cfg := testConfig(WorkloadLookup)
	cfg.Count, cfg.Duration, cfg.Preload = 0, 300*time.Millisecond, true
	start := time.Now()
	res, err := Run(context.Background(), cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("run took %v for a 300ms duration", el)
	}
	if res.ServerCPUSec != 0 {
		t.Fatalf("no server pids, yet cpu %v", res.ServerCPUSec)
	}
	if res.ElapsedSec < 0.3 || res.ElapsedSec > 2 {
		t.Fatalf("elapsed %.3f s", res.ElapsedSec)
	}
	if res.Ops == 0 || res.OpsPerSec <= 0 {
		t.Fatalf("no ops: %+v", res)
	}
}

func TestRunCountWithDurationStopsAtFirst(t *testing.T) {
	f := newFake()
	f.delay = 2 * time.Millisecond
	cfg := testConfig(WorkloadLookupStale)
	cfg.Count, cfg.Duration, cfg.Concurrency = 1_000_000, 200*time.Millisecond, 2
	res, err := Run(context.Background(), cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	if res.ElapsedSec > 2 || res.Ops >= 1_000_000 {
		t.Fatalf("duration did not bound the run: %.2f s, %d ops", res.ElapsedSec, res.Ops)
	}
}

func TestRunCancelStops(t *testing.T) {
	f := newFake()
	f.delay = time.Millisecond
	cfg := testConfig(WorkloadLookup)
	cfg.Count, cfg.Duration = 0, time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, cfg, f)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("cancel did not stop the run")
	}
}

func TestErrorClassification(t *testing.T) {
	f := newFake()
	f.fail = func(op string, n int64) error {
		switch n % 5 {
		case 1:
			return fmt.Errorf("wrapped: %w", ErrConflict)
		case 2:
			return WithKind(KindUnavailable, errors.New("503"))
		case 3:
			return fmt.Errorf("op: %w", context.DeadlineExceeded)
		case 4:
			return errors.New("boom")
		}
		return nil
	}
	cfg := testConfig(WorkloadCreate)
	cfg.Count, cfg.Concurrency = 100, 1
	res, err := Run(context.Background(), cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{KindUnavailable: 20, KindTimeout: 20, KindOther: 20}
	for k, n := range want {
		if res.Errors[k] != n {
			t.Errorf("errors[%s] = %d, want %d (all: %v)", k, res.Errors[k], n, res.Errors)
		}
	}
	if res.Conflicts != 20 || res.Ops != 20 {
		t.Errorf("conflicts %d ops %d, want 20 and 20", res.Conflicts, res.Ops)
	}
	if res.ErrorSamples[KindOther] != "boom" {
		t.Errorf("samples %v", res.ErrorSamples)
	}
	if got := res.PerOp["create"].Latency; got.P50 == 0 {
		t.Errorf("conflicts and successes must be in the histogram: %+v", got)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{ErrConflict, KindConflict},
		{fmt.Errorf("x: %w", ErrNotFound), KindNotFound},
		{WithKind(KindOutcomeUnknown, errors.New("x")), KindOutcomeUnknown},
		{context.DeadlineExceeded, KindTimeout},
		{context.Canceled, KindCanceled},
		{errors.New("x"), KindOther},
	}
	for _, c := range cases {
		if got := Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestBulkWritesEveryKeyOnce(t *testing.T) {
	f := newFake()
	cfg := testConfig(WorkloadBulk)
	cfg.Count, cfg.BatchSize, cfg.Keys, cfg.Concurrency = 1050, 100, 1050, 3
	res, err := Run(context.Background(), cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != 1050 || res.Ops != 11 {
		t.Fatalf("items %d ops %d, want 1050 in 11 batches", res.Items, res.Ops)
	}
	seen := map[string]int{}
	for _, b := range f.batches {
		if len(b) > 100 {
			t.Fatalf("batch of %d", len(b))
		}
		for _, m := range b {
			seen[m.Key]++
		}
	}
	for i := 0; i < 1050; i++ {
		if seen[Key(i)] != 1 {
			t.Fatalf("key %d written %d times", i, seen[Key(i)])
		}
	}
}

func TestCASTracksRevisions(t *testing.T) {
	f := newFake()
	cfg := testConfig(WorkloadCAS)
	cfg.Count, cfg.Concurrency, cfg.Keys, cfg.Preload = 500, 1, 10, true
	res, err := Run(context.Background(), cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	// One client: every revision it tracks is current, so no conflict.
	if res.Conflicts != 0 || res.Ops != 500 {
		t.Fatalf("conflicts %d ops %d", res.Conflicts, res.Ops)
	}
	// Someone else writes a key: the next cas of it conflicts once, then succeeds.
	rs := &runState{cfg: cfg, t: f, revs: newRevisions(10)}
	rs.revs.set(3, f.keys[Key(3)])
	f.write(Key(3))
	if err := rs.cas(context.Background(), 0, 3); !errors.Is(err, ErrConflict) {
		t.Fatalf("cas after a foreign write: %v, want a conflict", err)
	}
	if err := rs.cas(context.Background(), 0, 3); err != nil {
		t.Fatalf("cas after the conflict: %v", err)
	}
}

func TestMixedRatio(t *testing.T) {
	f := newFake()
	cfg := testConfig(WorkloadMixed)
	cfg.Count, cfg.Preload = 5000, true
	res, err := Run(context.Background(), cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	r, w := res.PerOp["read"], res.PerOp["write"]
	if r == nil || w == nil {
		t.Fatalf("per op %v", res.PerOp)
	}
	share := float64(w.Ops) / float64(r.Ops+w.Ops)
	if share < 0.07 || share > 0.13 {
		t.Fatalf("write share %.3f, want about 0.1", share)
	}
}

func TestWorkersSpread(t *testing.T) {
	f := newFake()
	cfg := testConfig(WorkloadLookupStale)
	cfg.Preload, cfg.Concurrency, cfg.Count = true, 8, 400
	f.delay = time.Millisecond
	if _, err := Run(context.Background(), cfg, f); err != nil {
		t.Fatal(err)
	}
	n := 0
	f.workers.Range(func(_, _ any) bool { n++; return true })
	if n != 8 {
		t.Fatalf("%d workers ran, want 8", n)
	}
}

func TestUnsupportedIsSkipped(t *testing.T) {
	f := newFake()
	f.listErr = fmt.Errorf("%w: no listing here", ErrUnsupported)
	res, err := Run(context.Background(), testConfig(WorkloadList), f)
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped == "" || f.ops.Load() != 0 {
		t.Fatalf("skipped %q after %d ops", res.Skipped, f.ops.Load())
	}
}

func TestKeysAreUUIDs(t *testing.T) {
	for _, k := range []string{Key(0), Key(999_999), uuidOf(0xc1234567, 1<<40)} {
		if len(k) != 36 || k[8] != '-' || k[13] != '-' || k[18] != '-' || k[23] != '-' {
			t.Fatalf("%q is not a uuid", k)
		}
	}
	if Key(1) == Key(2) {
		t.Fatal("keys collide")
	}
	m := NewMapping(Key(7), 7, 40)
	if len(m.UserID) != 40 || m.CellUUID != BenchCellUUID || m.ProjectID == "" {
		t.Fatalf("mapping %+v", m)
	}
	if len(NewMapping(Key(1), 123456, 3).UserID) != 3 {
		t.Fatal("value size not honoured")
	}
}
