package gossip

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testkit"
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

// pair starts a server member with rec as its handler and a conductor member (bcfg, joining
// the server), and waits until the server sees the conductor alive. Both stop with the test.
func pair(t *testing.T, rec *recorder, bcfg *Config, akeys ...[]byte) (a, b *Gossip) {
	t.Helper()
	a, err := New(&Config{Name: "server/n1", BindAddr: testkit.FreeUDPTCPAddr(t), Profile: "test", Handler: rec,
		Meta: api.GossipMeta{Role: api.RoleServer, NodeID: "n1", HTTPAddr: "127.0.0.1:1"}, Keys: akeys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Shutdown() })
	bcfg.Join = []string{a.LocalAddr()}
	if b, err = New(bcfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Shutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Join(ctx); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "conductor seen alive", 10*time.Second, func() bool { return rec.is(bcfg.Name, true) })
	return a, b
}

func newRecorder() *recorder {
	return &recorder{alive: map[string]bool{}, metaOf: map[string]api.GossipMeta{}}
}

func TestJoinMetaAndFailure(t *testing.T) {
	rec := newRecorder()
	want := api.GossipMeta{Role: api.RoleConductor, CellUUID: "c1", HTTPAddr: "127.0.0.1:2"}
	a, b := pair(t, rec, &Config{Name: "conductor/c1/x", BindAddr: testkit.FreeUDPTCPAddr(t), Profile: "test", Meta: want})
	rec.mu.Lock()
	got := rec.metaOf["conductor/c1/x"]
	rec.mu.Unlock()
	if got != want {
		t.Fatalf("meta: got %+v, want %+v", got, want)
	}
	if _, failed := a.FailedSince("conductor/c1/x"); failed {
		t.Fatal("a live member is failed")
	}
	before := time.Now()
	b.Shutdown() // no goodbye: the pool must detect the failure
	testkit.WaitFor(t, "conductor seen dead", 10*time.Second, func() bool { return rec.is("conductor/c1/x", false) })
	if since, failed := a.FailedSince("conductor/c1/x"); !failed || since.Before(before) {
		t.Fatalf("FailedSince after the failure: %v %v (shut down at %v)", since, failed, before)
	}
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

// TestReconnectAfterFailure: a member declared dead comes back on its address without joining
// anyone (as after a partition heals, when neither side would contact the other again); the
// survivor's reconnect loop must find it and see it alive.
func TestReconnectAfterFailure(t *testing.T) {
	rec := newRecorder()
	bcfg := &Config{Name: "conductor/c1/x", BindAddr: testkit.FreeUDPTCPAddr(t), Profile: "test"}
	_, b := pair(t, rec, bcfg)
	b.Shutdown()
	testkit.WaitFor(t, "conductor seen dead", 10*time.Second, func() bool { return rec.is("conductor/c1/x", false) })

	bcfg.Join = nil // it contacts nobody: only the server's reconnect loop can bring it back
	b2, err := New(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Shutdown()
	testkit.WaitFor(t, "conductor seen alive again", 10*time.Second, func() bool { return rec.is("conductor/c1/x", true) })
	testkit.WaitFor(t, "the conductor sees the server", 10*time.Second, func() bool { return b2.ml.NumMembers() == 2 })
}

func TestFailuresForget(t *testing.T) {
	f := &failures{failed: map[string]failure{}}
	now := time.Now()
	f.failed["old"] = failure{addr: "10.0.0.1:1", since: now.Add(-2 * time.Hour)}
	f.failed["new"] = failure{addr: "10.0.0.2:1", since: now.Add(-time.Minute)}
	if got := f.due(now, time.Hour); len(got) != 1 || got[0] != "10.0.0.2:1" {
		t.Fatalf("due: got %v, want only the recent failure", got)
	}
	if _, ok := f.failed["old"]; ok {
		t.Fatal("a failure older than the limit was kept")
	}
}
