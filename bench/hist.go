package bench

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range: 1 µs to 10 min, 3 significant digits (microsecond precision below 1 ms).
const (
	histLowest  = 1
	histHighest = int64(MaxDuration / time.Microsecond)
	histDigits  = 3
)

// Histogram records latencies in microseconds. It is not safe for concurrent use: each worker
// keeps its own and the runner merges them.
type Histogram struct{ h *hdrhistogram.Histogram }

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{h: hdrhistogram.New(histLowest, histHighest, histDigits)}
}

// Record adds one latency; values out of range are clamped.
func (h *Histogram) Record(d time.Duration) {
	us := int64(d / time.Microsecond)
	if us < histLowest {
		us = histLowest
	}
	if us > histHighest {
		us = histHighest
	}
	_ = h.h.RecordValue(us) // cannot fail once clamped
}

// Merge adds other's values.
func (h *Histogram) Merge(other *Histogram) { h.h.Merge(other.h) }

// Count is the number of values recorded.
func (h *Histogram) Count() int64 { return h.h.TotalCount() }

// Latency summarises a histogram, in microseconds.
type Latency struct {
	P50  int64   `json:"p50_us"`
	P90  int64   `json:"p90_us"`
	P99  int64   `json:"p99_us"`
	P999 int64   `json:"p999_us"`
	Max  int64   `json:"max_us"`
	Mean float64 `json:"mean_us"`
}

// Summary returns the percentiles of the values recorded (zero when empty).
func (h *Histogram) Summary() Latency {
	if h.h.TotalCount() == 0 {
		return Latency{}
	}
	return Latency{
		P50: h.h.ValueAtQuantile(50), P90: h.h.ValueAtQuantile(90), P99: h.h.ValueAtQuantile(99),
		P999: h.h.ValueAtQuantile(99.9), Max: h.h.Max(), Mean: h.h.Mean(),
	}
}
