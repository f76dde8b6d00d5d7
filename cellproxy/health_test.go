package cellproxy

import (
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/gossip"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func conductor(name, cell, addr string) gossip.Member {
	return gossip.Member{Name: name, Meta: api.GossipMeta{Role: api.RoleConductor, CellUUID: cell, HTTPAddr: addr}, Alive: true}
}

func TestRegistryHealth(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := NewRegistry(5*time.Second, clock.now)
	if r.Up("c1") || r.CellHealth("c1").Status != "unknown" {
		t.Fatalf("a cell never seen must be down and unknown")
	}
	if !r.Up(fsm.Cell0UUID) || r.CellHealth(fsm.Cell0UUID).Status != "up" {
		t.Fatalf("cell0 is always up")
	}
	r.MemberJoin(gossip.Member{Name: "server/n1", Meta: api.GossipMeta{Role: api.RoleServer}})
	r.MemberJoin(conductor("a", "c1", "h:1"))
	r.MemberJoin(conductor("b", "c1", "h:2"))
	if !r.Up("c1") {
		t.Fatalf("cell with alive conductors must be up")
	}
	if addr, _ := r.Conductor("c1"); addr != "h:1" {
		t.Fatalf("got conductor %s, want the first by name (h:1)", addr)
	}
	clock.add(time.Second)
	r.MemberLeave(conductor("a", "c1", "h:1"))
	if addr, ok := r.Conductor("c1"); !ok || addr != "h:2" || !r.Up("c1") {
		t.Fatalf("one conductor left: got %s %v, want h:2 and up", addr, ok)
	}
	r.MarkFailed("c1", "h:2")
	h := r.CellHealth("c1")
	if r.Up("c1") || h.Status != "down" || !h.Since.Equal(clock.now()) {
		t.Fatalf("after a failed request: got %+v, want down since now", h)
	}
	clock.add(6 * time.Second)
	if !r.Up("c1") {
		t.Fatalf("the cooldown has passed: the alive conductor counts again")
	}
	r.MemberLeave(conductor("b", "c1", "h:2"))
	if r.Up("c1") {
		t.Fatalf("all conductors gone: cell must be down")
	}
	r.MemberJoin(conductor("b", "c1", "h:2"))
	if !r.Up("c1") || r.CellHealth("c1").Conductors != 1 {
		t.Fatalf("conductor back: cell must be up with one conductor")
	}
	if cs := r.Conductors(); len(cs) != 2 || cs[0].Name != "a" || cs[0].Alive {
		t.Fatalf("got %+v, want both conductors, a dead", cs)
	}
}

// TestRegistryForgetsConductors: a conductor that left (or failed) and has not come back for
// the forget delay (DefaultForgetAfter, as gossip forgets failed members) is no longer listed;
// one that comes back before is kept.
func TestRegistryForgetsConductors(t *testing.T) {
	const forgetAfter = 24 * time.Hour
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := NewRegistry(5*time.Second, clock.now)
	r.MemberJoin(conductor("a", "c1", "h:1"))
	r.MemberJoin(conductor("b", "c1", "h:2"))
	r.MemberLeave(conductor("a", "c1", "h:1"))
	r.MemberLeave(conductor("b", "c1", "h:2"))
	clock.add(forgetAfter / 2)
	r.MemberJoin(conductor("b", "c1", "h:2"))
	clock.add(forgetAfter/2 + time.Minute)
	cs := r.Conductors()
	if len(cs) != 1 || cs[0].Name != "b" || !cs[0].Alive {
		t.Fatalf("got %+v, want only b (a has been gone longer than %v)", cs, forgetAfter)
	}
}
