package bench

import (
	"context"
	"testing"
	"time"
)

// BenchmarkHistogramRecord is the cost of recording one latency.
func BenchmarkHistogramRecord(b *testing.B) {
	h := NewHistogram()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		h.Record(time.Duration(i%50_000) * time.Microsecond)
	}
}

// BenchmarkRunnerOverhead is the runner's own cost per operation (key choice, timing,
// recording) against a target that does nothing: the load generator must stay far below the
// servers' cost per operation.
func BenchmarkRunnerOverhead(b *testing.B) {
	f := newFake()
	cfg := testConfig(WorkloadLookupStale)
	cfg.Concurrency, cfg.Count, cfg.Keys = 1, int64(b.N), 1000
	for i := 0; i < cfg.Keys; i++ {
		f.keys[Key(i)] = 1
	}
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := runMeasured(context.Background(), cfg, f, newRevisions(cfg.Keys)); err != nil {
		b.Fatal(err)
	}
}
