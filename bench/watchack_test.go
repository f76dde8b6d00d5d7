package bench

import (
	"testing"
	"time"
)

// TestAfterAck: arrivals are counted again from their probe's acknowledgement (within the
// histograms' 1 % precision); a probe with no acknowledgement is left out, and an arrival
// before its acknowledgement counts as 1 µs.
func TestAfterAck(t *testing.T) {
	var p probeHists
	p.record(1000, 6*time.Millisecond)
	p.record(1000, 9*time.Millisecond)
	p.record(1000, 4*time.Millisecond)  // before the ack
	p.record(2000, 50*time.Millisecond) // never acknowledged
	h := NewHistogram()
	afterAck(h, p.export(), map[int64]time.Duration{1000: 5 * time.Millisecond})
	if h.Count() != 3 {
		t.Fatalf("%d arrivals counted, want 3 (the unacknowledged probe's left out)", h.Count())
	}
	near := func(got, want int64) bool { return got >= want-want/50-1 && got <= want+want/50+1 }
	if s := h.Summary(); !near(s.Max, 4000) || s.P50 > 1100 || h.h.Min() != 1 {
		t.Fatalf("after the ack: min %d, p50 %d, max %d µs; want 1, ~1000, ~4000", h.h.Min(), s.P50, s.Max)
	}
}
