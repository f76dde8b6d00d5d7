package watch

import (
	"errors"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/fsm"
)

func all(*fsm.Event) bool { return true }

// evs builds one event per revision in revs, of kind.
func evs(kind string, revs ...uint64) []*fsm.Event {
	var out []*fsm.Event
	for _, r := range revs {
		out = append(out, &fsm.Event{Revision: r, Kind: kind, Op: fsm.EventPut, Key: "k"})
	}
	return out
}

func newHub(t *testing.T, cfg Config) *Hub {
	t.Helper()
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func revisions(es []*Entry) []uint64 {
	var out []uint64
	for _, e := range es {
		out = append(out, e.Event.Revision)
	}
	return out
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		ok  bool
	}{
		{DefaultConfig(), true},
		{Config{Ring: 4, MaxWatchers: 1, Buffer: 4}, true},
		{Config{Ring: 4, MaxWatchers: 1, Buffer: 5}, false},
		{Config{Ring: 0, MaxWatchers: 1, Buffer: 1}, false},
		{Config{Ring: 4, MaxWatchers: 0, Buffer: 1}, false},
		{Config{Ring: 4, MaxWatchers: 1, Buffer: 0}, false},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: got %v, want ok=%v", tc.cfg, err, tc.ok)
		}
	}
}

// TestJoinCoverage: the ring serves a since only when it holds every event after it; a
// since older than the evicted events (or than the attach point) goes to the state file.
func TestJoinCoverage(t *testing.T) {
	h := newHub(t, Config{Ring: 4, MaxWatchers: 10, Buffer: 4})
	h.Reset(10)
	mask := h.Mask(fsm.EventKinds())
	if _, ok := h.Join(9, mask); ok {
		t.Fatal("joined before the attach point")
	}
	h.Publish(13, evs("cells", 11, 12, 13))
	c, ok := h.Join(10, mask)
	if !ok {
		t.Fatal("cannot join at the attach point")
	}
	got, err := c.Next(nil, all)
	if err != nil || len(got) != 3 || c.Revision() != 13 {
		t.Fatalf("got %v %v at %d, want 11..13 at 13", revisions(got), err, c.Revision())
	}
	h.Publish(15, evs("cells", 14, 15)) // evicts 11: the ring holds 12..15
	if _, ok := h.Join(10, mask); ok {
		t.Fatal("joined although event 11 was evicted")
	}
	c2, ok := h.Join(11, mask)
	if !ok {
		t.Fatal("cannot join after the evicted event")
	}
	if got, err := c2.Next(nil, all); err != nil || len(got) != 4 || got[0].Event.Revision != 12 {
		t.Fatalf("got %v %v, want 12..15", revisions(got), err)
	}
	if got, err := c.Next(nil, all); err != nil || len(got) != 2 || got[0].Event.Revision != 14 {
		t.Fatalf("live cursor: got %v %v, want 14, 15", revisions(got), err)
	}
}

// TestSlowConsumer: a cursor more than Buffer matching events behind is cut, as is one the
// ring overtook with events of its kinds; events filtered out do not count.
func TestSlowConsumer(t *testing.T) {
	h := newHub(t, Config{Ring: 8, MaxWatchers: 10, Buffer: 2})
	h.Reset(0)
	cells := h.Mask([]string{"cells"})
	slow, _ := h.Join(0, cells)
	filtered, _ := h.Join(0, cells)
	other, _ := h.Join(0, cells)
	h.Publish(3, evs("cells", 1, 2, 3))
	if _, err := slow.Next(nil, all); !errors.Is(err, ErrSlowConsumer) {
		t.Fatalf("3 events behind with a buffer of 2: got %v, want slow consumer", err)
	}
	odd := func(ev *fsm.Event) bool { return ev.Revision%2 == 1 }
	if got, err := filtered.Next(nil, odd); err != nil || len(got) != 2 {
		t.Fatalf("filtered: got %v %v, want 1, 3", revisions(got), err)
	}
	h.Publish(9, evs("cells", 4, 5, 6, 7, 8, 9)) // overtakes other's place in the ring (8)
	none := func(*fsm.Event) bool { return false }
	if _, err := other.Next(nil, none); !errors.Is(err, ErrSlowConsumer) {
		t.Fatalf("overtaken cursor: got %v, want slow consumer", err)
	}
	if s := h.Stats(); s.SlowConsumers != 2 {
		t.Fatalf("stats %+v, want 2 slow consumers", s)
	}
}

// TestReset: a restore sends live cursors back to the state file.
func TestReset(t *testing.T) {
	h := newHub(t, Config{Ring: 8, MaxWatchers: 10, Buffer: 8})
	h.Reset(0)
	c, _ := h.Join(0, h.Mask([]string{"cells"}))
	wake := c.Wait()
	h.Reset(50)
	select {
	case <-wake:
	default:
		t.Fatal("reset did not wake the watcher")
	}
	if _, err := c.Next(nil, all); !errors.Is(err, ErrReset) {
		t.Fatalf("got %v, want reset", err)
	}
	if _, ok := h.Join(49, 1); ok {
		t.Fatal("joined below the restored index")
	}
}

// TestWake: a watcher of one kind wakes for its kind only; a watcher of several for any.
func TestWake(t *testing.T) {
	h := newHub(t, Config{Ring: 8, MaxWatchers: 10, Buffer: 8})
	h.Reset(0)
	one, _ := h.Join(0, h.Mask([]string{"cells"}))
	many, _ := h.Join(0, h.Mask([]string{"cells", "flavors"}))
	w1, wm := one.Wait(), many.Wait()
	h.Publish(1, evs("flavors", 1))
	select {
	case <-w1:
		t.Fatal("a cells watcher woke for a flavor")
	default:
	}
	select {
	case <-wm:
	default:
		t.Fatal("a cells+flavors watcher did not wake for a flavor")
	}
	h.Publish(2, evs("cells", 2))
	select {
	case <-w1:
	default:
		t.Fatal("a cells watcher did not wake for a cell")
	}
}

// TestCap: MaxWatchers streams at once; the next is refused until one ends.
func TestCap(t *testing.T) {
	h := newHub(t, Config{Ring: 8, MaxWatchers: 2, Buffer: 8})
	for range 2 {
		if err := h.AcquireN(1); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.AcquireN(1); !errors.Is(err, ErrTooManyWatchers) {
		t.Fatalf("third watcher: got %v, want refused", err)
	}
	h.ReleaseN(1)
	if err := h.AcquireN(1); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	if s := h.Stats(); s.Watchers != 2 || s.Refused != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// TestSkipOtherKinds: a cursor whose kinds had no event since its place moves to the head
// without scanning, and still finds an event of its kind published after.
func TestSkipOtherKinds(t *testing.T) {
	h := newHub(t, Config{Ring: 8, MaxWatchers: 10, Buffer: 2})
	h.Reset(0)
	c, _ := h.Join(0, h.Mask([]string{"cells"}))
	h.Publish(5, evs("flavors", 1, 2, 3, 4, 5))
	if got, err := c.Next(nil, all); err != nil || len(got) != 0 || c.Revision() != 5 {
		t.Fatalf("got %v %v at %d, want nothing at 5", revisions(got), err, c.Revision())
	}
	h.Publish(20, evs("flavors", 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)) // the ring (8) wraps past it
	if got, err := c.Next(nil, all); err != nil || len(got) != 0 || c.Revision() != 20 {
		t.Fatalf("after the ring wrapped: got %v %v at %d, want nothing at 20", revisions(got), err, c.Revision())
	}
	h.Publish(21, evs("cells", 21))
	if got, err := c.Next(nil, all); err != nil || len(got) != 1 || got[0].Event.Revision != 21 {
		t.Fatalf("got %v %v, want the cell at 21", revisions(got), err)
	}
}

// TestOneKindInOrder: a one-kind cursor (which follows its kind's links instead of scanning)
// gets its kind's events in revision and sub order among other kinds, and nothing newer than
// the head it read.
func TestOneKindInOrder(t *testing.T) {
	h := newHub(t, Config{Ring: 16, MaxWatchers: 10, Buffer: 16})
	h.Reset(0)
	c, _ := h.Join(0, h.Mask([]string{"cells"}))
	batch := []*fsm.Event{
		{Revision: 1, Kind: "cells", Key: "a"}, {Revision: 1, Sub: 1, Kind: "flavors"}, {Revision: 1, Sub: 2, Kind: "cells", Key: "b"},
		{Revision: 2, Kind: "flavors"}, {Revision: 3, Kind: "cells", Key: "c"},
	}
	h.Publish(3, batch)
	got, err := c.Next(nil, all)
	var keys []string
	for _, e := range got {
		keys = append(keys, e.Event.Key)
	}
	if err != nil || strings.Join(keys, ",") != "a,b,c" || c.Revision() != 3 {
		t.Fatalf("got %v %v at %d, want a,b,c at 3", keys, err, c.Revision())
	}
	h.Publish(4, evs("cells", 4))
	if got, err := c.Next(nil, all); err != nil || len(got) != 1 || got[0].Event.Revision != 4 {
		t.Fatalf("got %v %v, want the cell at 4", revisions(got), err)
	}
}
