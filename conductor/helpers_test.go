package conductor

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/hashicorp/go-hclog"
)

const testCell = "11111111-2222-4333-8444-555555555555"

// t0 is the fake clock's start.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testUUID is a deterministic instance uuid.
func testUUID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012x", i) }

// fakeClock ticks one second per reading.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// testLogger routes logs to t.Log until the test ends.
func testLogger(t testing.TB) hclog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Level: hclog.Info, Output: w})
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(p))
	}
	return len(p), nil
}

// openTestDB opens a cell database in a temporary directory with a fake clock and the given
// hosts; it is closed when the test ends.
func openTestDB(t testing.TB, hosts ...api.ComputeHostCreate) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), dbFileName)
	db := reopenTestDB(t, path)
	if _, err := db.EnsureHosts(context.Background(), hosts); err != nil {
		t.Fatal(err)
	}
	return db, path
}

func reopenTestDB(t testing.TB, path string) *DB {
	t.Helper()
	db, err := OpenDB(path, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: t0.Add(24 * time.Hour)}
	db.now = clock.now
	t.Cleanup(func() { db.Close() })
	return db
}

func host(name string, vcpus, ram, disk int64) api.ComputeHostCreate {
	return api.ComputeHostCreate{Name: name, VCPUs: vcpus, RAMMB: ram, DiskGB: disk}
}

func flavor(vcpus, ram, disk int64) api.Flavor {
	return api.Flavor{ID: "f", Name: "f", VCPUs: vcpus, RAMMB: ram, DiskGB: disk, ExtraSpecs: map[string]string{"hw:cpu_policy": "shared"}}
}

func buildReq(i int, f api.Flavor) api.InstanceCreate {
	return api.InstanceCreate{UUID: testUUID(i), Name: fmt.Sprintf("vm-%d", i), ProjectID: "p1", UserID: "u1",
		Flavor: f, ImageRef: "img", CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
}

func mustCreate(t testing.TB, db *DB, req api.InstanceCreate) api.Instance {
	t.Helper()
	inst, created, err := db.CreateInstance(context.Background(), req)
	if err != nil || !created {
		t.Fatalf("create %s: got created=%v err=%v, want created", req.UUID, created, err)
	}
	return inst
}

func mustHost(t testing.TB, db *DB, name string) api.ComputeHost {
	t.Helper()
	hosts, err := db.ComputeHosts(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("host %s not found", name)
	return api.ComputeHost{}
}

// newTestConductor runs a conductor on real loopback sockets: HTTP served, gossip bound (not
// joined). It is shut down when the test ends.
func newTestConductor(t testing.TB, dataDir string, join []string, hosts ...api.ComputeHostCreate) (*Conductor, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.CellUUID, cfg.DataDir, cfg.HTTPAddr, cfg.Name = testCell, dataDir, ln.Addr().String(), "t1"
	cfg.GossipAddr, cfg.GossipProfile, cfg.Join, cfg.Hosts = testkit.FreeUDPTCPAddr(t), "test", join, hosts
	cfg.Logger = testLogger(t)
	c, err := New(cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- c.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: got %v, want nil after shutdown", err)
		}
	})
	return c, "http://" + ln.Addr().String()
}
