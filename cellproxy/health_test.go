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

// dirMap is a Directory from a map of cell → mapped address.
type dirMap map[string]string

func (d dirMap) CellAddr(cell string) (string, bool) { a, ok := d[cell]; return a, ok }

func TestRegistryHealth(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := NewRegistry(5*time.Second, clock.now)
	r.attach(dirMap{"c1": "http://h:1"}, 0)
	if r.Up("c1") || r.CellHealth("c1").Status != "unknown" {
		t.Fatalf("a cell never seen must be down and unknown")
	}
	if !r.Up(fsm.Cell0UUID) || r.CellHealth(fsm.Cell0UUID).Status != "up" {
		t.Fatalf("cell0 is always up")
	}
	r.MemberJoin(gossip.Member{Name: "server/n1", Meta: api.GossipMeta{Role: api.RoleServer}})
	r.MemberJoin(conductor("a", "c1", "h:1"))
	r.MemberJoin(conductor("0-other", "c1", "h:2")) // not the mapped address: never used
	if !r.Up("c1") {
		t.Fatalf("cell with its mapped conductor alive must be up")
	}
	if addr, _ := r.Conductor("c1"); addr != "http://h:1" {
		t.Fatalf("got conductor %s, want the mapped address http://h:1", addr)
	}
	r.MarkFailed("c1", "http://h:1")
	h := r.CellHealth("c1")
	if r.Up("c1") || h.Status != "down" || !h.Since.Equal(clock.now()) {
		t.Fatalf("after a failed request: got %+v, want down since now", h)
	}
	clock.add(6 * time.Second)
	if !r.Up("c1") {
		t.Fatalf("the cooldown has passed: the alive conductor counts again")
	}
	r.MemberLeave(conductor("a", "c1", "h:1"))
	if r.Up("c1") {
		t.Fatalf("the mapped conductor is gone: cell must be down (the other address does not count)")
	}
	r.MemberJoin(conductor("a", "c1", "h:1"))
	if !r.Up("c1") || r.CellHealth("c1").Conductors != 1 {
		t.Fatalf("conductor back: cell must be up with one conductor")
	}
	cs := r.Conductors()
	if len(cs) != 2 || cs[0].Name != "0-other" || cs[0].Mapped || cs[1].Name != "a" || !cs[1].Mapped {
		t.Fatalf("got %+v, want 0-other unmapped and a mapped", cs)
	}
}

func TestConductorAddr(t *testing.T) {
	for _, tc := range []struct {
		tu, db, baseTU string
		want           string
	}{
		{"http://10.0.0.5:8490/", "mysql://db/c1", "", "http://10.0.0.5:8490"},
		{"https://u:secret@10.0.0.5:8490/path", "", "", "https://10.0.0.5:8490"},
		{"rabbit://mq/", "conductor://10.0.0.6:8490", "", "10.0.0.6:8490"},
		{"{scheme}://{hostname}:{port}/", "", "http://conductor-1:8490/", "http://conductor-1:8490"},
		{"rabbit://mq/", "mysql://db/c1", "", ""},
		{"http:///nohost", "", "", ""},
	} {
		got, ok := ConductorAddr(&fsm.Cell{TransportURL: tc.tu, DatabaseConnection: tc.db}, tc.baseTU, "")
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("ConductorAddr(%q, %q): got %q %v, want %q", tc.tu, tc.db, got, ok, tc.want)
		}
	}
}

// TestRegistryForgetsConductors: a conductor that left (or failed) and has not come back for
// the forget delay (DefaultForgetAfter, as gossip forgets failed members) is no longer listed;
// one that comes back before is kept.
func TestRegistryForgetsConductors(t *testing.T) {
	const forgetAfter = DefaultForgetAfter
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
