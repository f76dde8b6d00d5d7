package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// recorder keeps the changes a cache fires, in order.
type recorder struct {
	mu  sync.Mutex
	log []client.Change
}

func (r *recorder) attach(c *client.Cache) {
	add := func(ch client.Change) {
		r.mu.Lock()
		r.log = append(r.log, ch)
		r.mu.Unlock()
	}
	c.OnAdd(add)
	c.OnUpdate(add)
	c.OnDelete(add)
}

// since returns the changes from the i-th on.
func (r *recorder) since(i int) []client.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]client.Change(nil), r.log[min(i, len(r.log)):]...)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.log)
}

// want is an expected change: its type, kind, key and the revision of the write.
type want struct {
	typ      client.ChangeType
	kind     string
	key      string
	revision uint64
}

func (w want) String() string {
	return fmt.Sprintf("%v %s %s@%d", w.typ, w.kind, w.key, w.revision)
}

// sameChanges compares streamed changes (not a relist's) with the writes, exactly and in
// order.
func sameChanges(t *testing.T, got []client.Change, wants []want) {
	t.Helper()
	for i := 0; i < max(len(got), len(wants)); i++ {
		var g, w string
		if i < len(got) {
			g = want{got[i].Type, got[i].Kind, got[i].Key, got[i].Revision}.String()
			if got[i].Relist {
				g += " (relist)"
			}
		}
		if i < len(wants) {
			w = wants[i].String()
		}
		if g != w {
			t.Errorf("change %d: got %q, want %q", i, g, w)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// runCache starts a cache and stops it at cleanup; Run's error goes to the returned channel.
func runCache(t *testing.T, cfg *client.CacheConfig) (*client.Cache, *recorder, <-chan error) {
	t.Helper()
	c, err := client.NewCache(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	rec.attach(c)
	ctx, cancel := context.WithCancel(context.Background())
	done, finished := make(chan error, 1), make(chan struct{})
	go func() {
		defer close(finished)
		done <- c.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(20 * time.Second):
			t.Error("cache Run did not return after its context ended")
		}
	})
	return c, rec, done
}

// waitSynced waits for a cache's first listing.
func waitSynced(t *testing.T, c *client.Cache) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
}

// waitRevision waits until a cache has reached rev.
func waitRevision(t *testing.T, c *client.Cache, rev uint64) {
	t.Helper()
	testkit.WaitFor(t, fmt.Sprintf("cache at revision %d", rev), 30*time.Second, func() bool { return c.Revision() >= rev })
}

// testCacheConfig is a cache configuration with short intervals, for tests.
func testCacheConfig(token string, endpoints ...string) *client.CacheConfig {
	cfg := client.DefaultCacheConfig()
	cfg.Endpoints, cfg.Token = endpoints, token
	cfg.ProgressInterval, cfg.ProbeInterval, cfg.MaxStaleness = 50*time.Millisecond, 100*time.Millisecond, 5*time.Second
	cfg.MinBackoff, cfg.MaxBackoff, cfg.RequestTimeout = 20*time.Millisecond, 200*time.Millisecond, 5*time.Second
	return cfg
}

// roleToken creates a token of a role (and project, for a scoped one) with the admin client.
func roleToken(t *testing.T, admin *client.Client, role, project string) string {
	t.Helper()
	tok, err := admin.CreateToken(context.Background(), api.TokenCreate{Description: "cache test " + role, Role: role, ProjectID: project})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Secret
}

// gate is an HTTP proxy in front of a node that the test can close: closing cuts every open
// request (the change stream included) and refuses new ones with 503 until it opens again.
type gate struct {
	srv    *httptest.Server
	closed atomic.Bool
	mu     sync.Mutex
	open   map[*http.Request]context.CancelFunc
	thaw   chan struct{} // set while frozen: answers stop flowing, connections stay open
	// before, when set, sees every request before it is forwarded.
	before func(*http.Request)
}

// frozenWriter holds every write of an answer while its gate is frozen.
type frozenWriter struct {
	http.ResponseWriter
	g   *gate
	ctx context.Context
}

func (w *frozenWriter) wait() error {
	w.g.mu.Lock()
	thaw := w.g.thaw
	w.g.mu.Unlock()
	if thaw == nil {
		return nil
	}
	select {
	case <-thaw:
		return nil
	case <-w.ctx.Done():
		return w.ctx.Err()
	}
}

func (w *frozenWriter) Write(p []byte) (int, error) {
	if err := w.wait(); err != nil {
		return 0, err
	}
	return w.ResponseWriter.Write(p)
}

func (w *frozenWriter) Flush() {
	if w.wait() == nil {
		http.NewResponseController(w.ResponseWriter).Flush()
	}
}

// freeze stops every answer through the gate (a paused node: connections open, nothing
// comes) until thawed.
func (g *gate) freeze() (thaw func()) {
	ch := make(chan struct{})
	g.mu.Lock()
	g.thaw = ch
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		g.thaw = nil
		g.mu.Unlock()
		close(ch)
	}
}

func newGate(t *testing.T, target string) *gate {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{open: map[*http.Request]context.CancelFunc{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.FlushInterval = -1
	proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		if !errors.Is(err, context.Canceled) {
			w.WriteHeader(http.StatusBadGateway)
		}
	}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.closed.Load() {
			http.Error(w, "gate closed", http.StatusServiceUnavailable)
			return
		}
		if g.before != nil {
			g.before(r)
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		r = r.WithContext(ctx)
		g.mu.Lock()
		g.open[r] = cancel
		g.mu.Unlock()
		defer func() {
			g.mu.Lock()
			delete(g.open, r)
			g.mu.Unlock()
		}()
		proxy.ServeHTTP(&frozenWriter{ResponseWriter: w, g: g, ctx: ctx}, r)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

// close cuts the open requests and refuses new ones.
func (g *gate) close() {
	g.closed.Store(true)
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, cancel := range g.open {
		cancel()
	}
}

func (g *gate) reopen() { g.closed.Store(false) }

// cells creates cells named a, b, ... and returns their uuids.
func cells(t *testing.T, admin *client.Client, names ...string) []string {
	t.Helper()
	var out []string
	for _, n := range names {
		c, err := admin.CreateCell(context.Background(), api.CellCreate{Name: n, TransportURL: "rabbit://" + n + "/", DatabaseConnection: "mysql://" + n})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c.UUID)
	}
	return out
}

// putMapping writes an instance mapping and returns the write's revision.
func putMapping(t *testing.T, admin *client.Client, uuid, cell, project string) uint64 {
	t.Helper()
	_, m, err := admin.PutInstanceMapping(context.Background(), uuid, api.InstanceMappingPut{CellUUID: &cell, ProjectID: project}, client.Condition{})
	if err != nil {
		t.Fatalf("put %s: %v", uuid, err)
	}
	return m.Index
}

// deleteMapping deletes an instance mapping and returns the write's revision.
func deleteMapping(t *testing.T, admin *client.Client, uuid string) uint64 {
	t.Helper()
	m, err := admin.DeleteInstanceMapping(context.Background(), uuid, 0)
	if err != nil {
		t.Fatalf("delete %s: %v", uuid, err)
	}
	return m.Index
}

// instUUID is the uuid of test instance i.
func instUUID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// startNode starts an in-process node (see testcluster.StartNode).
func startNode(t *testing.T, o *testcluster.Options) *testcluster.Node {
	return testcluster.StartNode(t, o)
}
