package watch

import (
	"math/bits"
	"slices"
	"sync"

	"github.com/cellmap/cellmap/fsm"
)

// Entry is one event in the ring, with its JSON lines rendered once per view and shared by
// every watcher that sends it.
type Entry struct {
	seq uint64
	// prev is one past the sequence number of the previous event of the same kind (0: none),
	// so a watcher of one kind walks its events without scanning the others.
	prev  uint64
	bit   uint32
	Event *fsm.Event
	views [2]view
}

type view struct {
	once sync.Once
	line []byte
}

// Line returns the event rendered for view v (0 or 1: the caller's two views, such as with
// and without secrets), calling render the first time any watcher asks for that view.
func (e *Entry) Line(v int, render func(*fsm.Event) []byte) []byte {
	vw := &e.views[v]
	vw.once.Do(func() { vw.line = render(e.Event) })
	return vw.line
}

// Cursor is one live watcher's place in the ring. It is used by one goroutine.
type Cursor struct {
	hub  *Hub
	gen  uint64
	seq  uint64
	rev  uint64
	mask uint32
}

// Revision is the applied index up to which the cursor has seen every event.
func (c *Cursor) Revision() uint64 { return c.rev }

// Wait returns a channel closed when events of the cursor's kinds (or a reset) may have
// arrived. Take it before Next, then wait on it: nothing published in between is missed.
func (c *Cursor) Wait() <-chan struct{} {
	i := len(c.hub.wake) - 1
	if c.mask != 0 && c.mask&(c.mask-1) == 0 { // one kind: wake on that kind only
		i = bits.TrailingZeros32(c.mask)
	}
	return *c.hub.wake[i].Load()
}

// Next appends to out the events after the cursor that are of its kinds and pass match, up
// to the head, and moves the cursor there. It answers ErrSlowConsumer when more than Buffer
// of them wait or the ring overtook the cursor, and ErrReset after a restore; the cursor is
// then spent.
func (c *Cursor) Next(out []*Entry, match func(*fsm.Event) bool) ([]*Entry, error) {
	h := c.hub
	if h.gen.Load() != c.gen {
		return out, ErrReset
	}
	head := h.head.Load()
	if !c.kindsSince(c.seq) { // nothing of the cursor's kinds since its place
		c.seq, c.rev = head.seq, max(c.rev, head.rev)
		return out, nil
	}
	start := len(out)
	var err error
	if c.mask&(c.mask-1) == 0 {
		out, err = c.walk(head, out, match)
	} else {
		out, err = c.scan(head, out, match)
	}
	if err != nil {
		return out[:start], err
	}
	if h.gen.Load() != c.gen { // a restore during the scan: what was read may be stale
		return out[:start], ErrReset
	}
	c.seq, c.rev = head.seq, max(c.rev, head.rev)
	return out, nil
}

// scan collects the matching events below head by reading every event after the cursor.
func (c *Cursor) scan(head *position, out []*Entry, match func(*fsm.Event) bool) ([]*Entry, error) {
	h := c.hub
	n := uint64(len(h.slots))
	if head.seq-c.seq > n {
		return out, c.slow()
	}
	start := len(out)
	for s := c.seq; s < head.seq; s++ {
		e := h.slots[s%n].Load()
		if e == nil || e.seq != s {
			return out, c.slow()
		}
		if !c.wants(e, match) {
			continue
		}
		if len(out)-start >= h.cfg.Buffer {
			return out, c.slow()
		}
		out = append(out, e)
	}
	return out, nil
}

// walk collects the matching events below head of a one-kind cursor by following the kind's
// links back from its newest event, then puts them in order: its cost is the events of its
// kind, not all events. A link into an overwritten slot means the ring overtook the cursor.
func (c *Cursor) walk(head *position, out []*Entry, match func(*fsm.Event) bool) ([]*Entry, error) {
	h := c.hub
	n := uint64(len(h.slots))
	start := len(out)
	for next := h.last[bits.TrailingZeros32(c.mask)].Load(); next > c.seq; {
		seq := next - 1
		e := h.slots[seq%n].Load()
		if e == nil || e.seq != seq {
			return out, c.slow()
		}
		next = e.prev
		if seq >= head.seq || !c.wants(e, match) { // newer than the head read: next time
			continue
		}
		if len(out)-start >= h.cfg.Buffer {
			return out, c.slow()
		}
		out = append(out, e)
	}
	slices.Reverse(out[start:])
	return out, nil
}

// wants reports whether the cursor sends e. A cursor joined after reading the state file up
// to rev skips what it read there: the file commits a batch before the hub gets it.
func (c *Cursor) wants(e *Entry, match func(*fsm.Event) bool) bool {
	return e.bit&c.mask != 0 && e.Event.Revision > c.rev && match(e.Event)
}

// kindsSince reports whether an event of the cursor's kinds may be at or after seq. Next
// reads the head first: the publisher stores last before the head, so every event below
// that head is counted in last, and a false answer lets the cursor skip to that head.
func (c *Cursor) kindsSince(seq uint64) bool {
	for i := range c.hub.last {
		if c.mask&(1<<i) != 0 && c.hub.last[i].Load() > seq {
			return true
		}
	}
	return false
}

func (c *Cursor) slow() error {
	c.hub.stats.slow.Add(1)
	return ErrSlowConsumer
}
