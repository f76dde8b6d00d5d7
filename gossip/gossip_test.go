package gossip

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
)

type recorder struct {
	mu     sync.Mutex
	alive  map[string]bool
	metaOf map[string]api.GossipMeta
}

func (r *recorder) set(m Member, alive bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.alive[m.Name], r.metaOf[m.Name] = alive, m.Meta
}
func (r *recorder) MemberJoin(m Member)   { r.set(m, true) }
func (r *recorder) MemberLeave(m Member)  { r.set(m, false) }
func (r *recorder) MemberUpdate(m Member) { r.set(m, m.Alive) }

func (r *recorder) is(name string, alive bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.alive[name]
	return ok && a == alive
}

func freeUDPTCP(t *testing.T) string {
	t.Helper()
	for i := 0; i < 20; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if pc, err := net.ListenPacket("udp", addr); err == nil {
			pc.Close()
			return addr
		}
	}
	t.Fatal("no free port")
	return ""
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestJoinMetaAndFailure(t *testing.T) {
	rec := &recorder{alive: map[string]bool{}, metaOf: map[string]api.GossipMeta{}}
	a, err := New(&Config{Name: "server/n1", BindAddr: freeUDPTCP(t), Profile: "test", Handler: rec,
		Meta: api.GossipMeta{Role: api.RoleServer, NodeID: "n1", HTTPAddr: "127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	want := api.GossipMeta{Role: api.RoleConductor, CellUUID: "c1", HTTPAddr: "127.0.0.1:2"}
	b, err := New(&Config{Name: "conductor/c1/x", BindAddr: freeUDPTCP(t), Profile: "test", Join: []string{a.LocalAddr()}, Meta: want})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Join(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "conductor seen alive", func() bool { return rec.is("conductor/c1/x", true) })
	rec.mu.Lock()
	got := rec.metaOf["conductor/c1/x"]
	rec.mu.Unlock()
	if got != want {
		t.Fatalf("meta: got %+v, want %+v", got, want)
	}
	b.Shutdown() // no goodbye: the pool must detect the failure
	waitFor(t, "conductor seen dead", func() bool { return rec.is("conductor/c1/x", false) })
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no name", Config{BindAddr: "127.0.0.1:0"}},
		{"bad addr", Config{Name: "x", BindAddr: "nope"}},
		{"bad profile", Config{Name: "x", BindAddr: "127.0.0.1:0", Profile: "wan"}},
		{"meta too big", Config{Name: "x", BindAddr: "127.0.0.1:0", Meta: api.GossipMeta{HTTPAddr: string(make([]byte, 600))}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); err == nil {
				t.Fatalf("got nil error, want one")
			}
		})
	}
}
