// Package watch fans the change stream out to live watchers. The apply path publishes every
// committed batch's events into a Hub (fsm.EventSink): a bounded in-memory ring of the newest
// events. Each watcher holds a Cursor into the ring, so an event is stored once however many
// watchers there are, and its JSON is rendered once per view (Entry.Line). Publishing never
// waits for a watcher: it stores the events, moves the head and wakes the watchers of the
// events' kinds. A watcher more than Config.Buffer matching events behind, or overtaken by
// the ring, is slow: it is cut (the stream ends with a slow_consumer line) instead of holding
// anything back. Watchers that resume from older revisions read the state file's history
// (package fsm) until they reach the ring, then Join it.
package watch

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/cellmap/cellmap/fsm"
)

// Config sets the hub's limits.
type Config struct {
	// Ring is how many of the newest events the hub keeps in memory. A watcher behind by
	// more than the ring (counting events of its kinds only from its last one) is slow.
	Ring int
	// MaxWatchers caps the change streams the node serves at once; a watch beyond it is
	// refused (503 busy, Retry-After), so the client tries another node or later.
	MaxWatchers int
	// Buffer is the most matching events that may wait for one watcher: one further behind
	// is cut with slow_consumer. It is at most Ring.
	Buffer int
}

// DefaultConfig keeps 16,384 events, serves up to 16,384 watchers and lets each fall 1,024
// events behind.
func DefaultConfig() Config { return Config{Ring: 16384, MaxWatchers: 16384, Buffer: 1024} }

// Validate checks the limits.
func (c Config) Validate() error {
	if c.Ring < 1 || c.MaxWatchers < 1 || c.Buffer < 1 {
		return errors.New("watch: Ring, MaxWatchers and Buffer must be at least 1")
	}
	if c.Buffer > c.Ring {
		return fmt.Errorf("watch: Buffer (%d) must be at most Ring (%d)", c.Buffer, c.Ring)
	}
	return nil
}

// Errors of a cursor.
var (
	// ErrSlowConsumer: the watcher fell more than Buffer events (or the whole ring) behind.
	ErrSlowConsumer = errors.New("watch: slow consumer")
	// ErrReset: the state was replaced (a snapshot restore): the watcher reads the state
	// file's history again from its revision.
	ErrReset = errors.New("watch: history reset")
	// ErrTooManyWatchers: the node serves MaxWatchers already.
	ErrTooManyWatchers = errors.New("watch: too many watchers")
)

// position is the head of the ring: seq is the sequence number the next event gets, rev the
// applied index every event up to seq belongs to or precedes.
type position struct{ seq, rev uint64 }

// Hub is the per-node fan-out. The zero value is not usable; see New.
type Hub struct {
	cfg   Config
	bits  map[string]uint32 // kind → its bit in a kind mask
	slots []atomic.Pointer[Entry]
	head  atomic.Pointer[position]
	gen   atomic.Uint64
	// wake[i] is closed and replaced when events of kind bit i are published; wake[len-1]
	// when any events are.
	wake []atomic.Pointer[chan struct{}]

	// mu orders publishers (the apply path) with Join; readers of the ring take no lock.
	mu sync.Mutex
	// tail is the oldest sequence number in the ring; every event after base is in it.
	tail, base uint64

	// last[i] is one past the sequence number of the newest event of kind bit i: a cursor
	// whose kinds have nothing at or after its place skips to the head without a scan.
	last []atomic.Uint64

	watchers atomic.Int64
	stats    counters
}

// counters are what Stats reports.
type counters struct{ refused, slow, resets atomic.Uint64 }

// Stats are the hub's counters.
type Stats struct {
	// Watchers is the number of watches served now (a stream of many counts each); Refused
	// counts streams refused by the cap, SlowConsumers those cut, Resets the restores that
	// sent watchers back to the file.
	Watchers      int64
	Refused       uint64
	SlowConsumers uint64
	Resets        uint64
	// Head is the applied index the ring has reached, Base the oldest since it serves.
	Head, Base uint64
}

var _ fsm.EventSink = (*Hub)(nil)

// New builds a hub for the kinds of fsm.EventKinds.
func New(cfg Config) (*Hub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	kinds := fsm.EventKinds()
	if len(kinds) > 31 {
		return nil, fmt.Errorf("watch: %d kinds do not fit a kind mask", len(kinds))
	}
	h := &Hub{cfg: cfg, bits: map[string]uint32{}, slots: make([]atomic.Pointer[Entry], cfg.Ring),
		wake: make([]atomic.Pointer[chan struct{}], len(kinds)+1), last: make([]atomic.Uint64, len(kinds))}
	for i, k := range kinds {
		h.bits[k] = 1 << i
	}
	for i := range h.wake {
		ch := make(chan struct{})
		h.wake[i].Store(&ch)
	}
	h.head.Store(&position{})
	return h, nil
}

// Config returns the hub's limits.
func (h *Hub) Config() Config { return h.cfg }

// Mask is the kind mask of kinds (unknown kinds add nothing).
func (h *Hub) Mask(kinds []string) uint32 {
	var m uint32
	for _, k := range kinds {
		m |= h.bits[k]
	}
	return m
}

// Publish stores a committed batch's events and wakes their watchers (fsm.EventSink). It
// takes no lock a watcher holds while it writes, and allocates one Entry per event.
func (h *Hub) Publish(applied uint64, events []*fsm.Event) {
	h.mu.Lock()
	seq := h.head.Load().seq
	var mask uint32
	n := uint64(len(h.slots))
	for _, ev := range events {
		if old := h.slots[seq%n].Load(); old != nil && old.seq >= h.tail {
			h.base, h.tail = old.Event.Revision, old.seq+1
		}
		bit := h.bits[ev.Kind]
		k := bits.TrailingZeros32(bit)
		h.slots[seq%n].Store(&Entry{seq: seq, prev: h.last[k].Load(), bit: bit, Event: ev})
		h.last[k].Store(seq + 1) // after the entry, before the head
		mask |= bit
		seq++
	}
	h.head.Store(&position{seq: seq, rev: applied})
	h.mu.Unlock()
	if mask == 0 {
		return
	}
	for i := range len(h.wake) - 1 {
		if mask&(1<<i) != 0 {
			h.signal(i)
		}
	}
	h.signal(len(h.wake) - 1)
}

func (h *Hub) signal(i int) {
	ch := make(chan struct{})
	close(*h.wake[i].Swap(&ch))
}

// Reset forgets the ring: events up to applied are in the state file only (fsm.EventSink).
// Cursors taken before it answer ErrReset.
func (h *Hub) Reset(applied uint64) {
	h.mu.Lock()
	seq := h.head.Load().seq
	h.gen.Add(1)
	h.tail, h.base = seq, applied
	h.head.Store(&position{seq: seq, rev: applied})
	h.mu.Unlock()
	h.stats.resets.Add(1)
	for i := range h.wake {
		h.signal(i)
	}
}

// AcquireN counts n new watchers (the watches of one stream) or, when they do not all fit
// under the cap, none (ErrTooManyWatchers). A success is followed by ReleaseN(n).
func (h *Hub) AcquireN(n int) error {
	if h.watchers.Add(int64(n)) > int64(h.cfg.MaxWatchers) {
		h.watchers.Add(-int64(n))
		h.stats.refused.Add(1)
		return ErrTooManyWatchers
	}
	return nil
}

// ReleaseN ends n watchers counted by AcquireN.
func (h *Hub) ReleaseN(n int) { h.watchers.Add(-int64(n)) }

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	base := h.base
	h.mu.Unlock()
	return Stats{Watchers: h.watchers.Load(), Refused: h.stats.refused.Load(), SlowConsumers: h.stats.slow.Load(),
		Resets: h.stats.resets.Load(), Head: h.head.Load().rev, Base: base}
}

// Join returns a cursor after revision since for the kinds of mask, when the ring holds every
// event after since and at most Buffer events wait after it; otherwise the watcher reads the
// state file's history further first (ok false).
func (h *Hub) Join(since uint64, mask uint32) (c *Cursor, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	head := h.head.Load()
	if since < h.base {
		return nil, false
	}
	n := uint64(len(h.slots))
	// The first event after since: the ring's events are in revision order.
	i := sort.Search(int(head.seq-h.tail), func(i int) bool {
		return h.slots[(h.tail+uint64(i))%n].Load().Event.Revision > since
	})
	seq := h.tail + uint64(i)
	if head.seq-seq > uint64(h.cfg.Buffer) {
		return nil, false
	}
	return &Cursor{hub: h, gen: h.gen.Load(), seq: seq, rev: since, mask: mask}, true
}
