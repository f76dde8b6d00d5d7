package bench

import (
	"strconv"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// The fan-out latency of the watch benchmark runs from sending a probe's write to its arrival
// at a watch, so it holds the write's own commit too. To tell the two apart, each fleet also
// keeps a histogram per probe (keyed by the probe's send time), the driver notes when each
// probe's write was acknowledged, and the arrivals are then counted again from that
// acknowledgement: the fan-out proper, after the write committed and the client heard so.

// Per-probe histograms: 1 µs to 100 s, 2 significant digits (small enough to ship 60 of them).
const (
	probeHistHighest = int64(100 * time.Second / time.Microsecond)
	probeHistDigits  = 2
)

// probeHists are a fleet's per-probe arrival latencies (µs from the probe's send).
type probeHists struct {
	mu sync.Mutex
	by map[int64]*hdrhistogram.Histogram
}

func (p *probeHists) record(sent int64, lat time.Duration) {
	us := min(max(int64(lat/time.Microsecond), 1), probeHistHighest)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.by == nil {
		p.by = map[int64]*hdrhistogram.Histogram{}
	}
	h := p.by[sent]
	if h == nil {
		h = hdrhistogram.New(1, probeHistHighest, probeHistDigits)
		p.by[sent] = h
	}
	_ = h.RecordValue(us)
}

// export returns the histograms keyed by the probe's send time (unix ns, in decimal).
func (p *probeHists) export() map[string]*hdrhistogram.Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]*hdrhistogram.Snapshot, len(p.by))
	for sent, h := range p.by {
		out[strconv.FormatInt(sent, 10)] = h.Export()
	}
	return out
}

// afterAck adds to h the arrivals of byProbe counted from each probe's acknowledgement: acks
// maps a probe's send time (unix ns) to how long its write took to be acknowledged. Arrivals
// of a probe without an acknowledgement are left out; an arrival before its probe's
// acknowledgement counts as 1 µs.
func afterAck(h *Histogram, byProbe map[string]*hdrhistogram.Snapshot, acks map[int64]time.Duration) {
	for key, snap := range byProbe {
		sent, err := strconv.ParseInt(key, 10, 64)
		ack, ok := acks[sent]
		if err != nil || !ok {
			continue
		}
		delay := int64(ack / time.Microsecond)
		for _, bar := range hdrhistogram.Import(snap).Distribution() {
			if bar.Count == 0 {
				continue
			}
			v := min(max(bar.To-delay, histLowest), histHighest)
			_ = h.h.RecordValues(v, bar.Count)
		}
	}
}
