package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/watch"
)

// stuckWriter is a client that stops reading: its first Write of a body blocks until
// release is closed (as a write to a full socket does), and says so on entered.
type stuckWriter struct {
	header  http.Header
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	status  int
	body    bytes.Buffer
}

func newStuckWriter() *stuckWriter {
	return &stuckWriter{header: http.Header{}, entered: make(chan struct{}), release: make(chan struct{})}
}

func (w *stuckWriter) Header() http.Header { return w.header }
func (w *stuckWriter) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.status = code
}
func (w *stuckWriter) Flush() {}
func (w *stuckWriter) Write(b []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.body.Write(b)
}

// lines parses what the stuck client received once released.
func (w *stuckWriter) lines(t *testing.T) []api.WatchEvent {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []api.WatchEvent
	sc := bufio.NewScanner(bytes.NewReader(w.body.Bytes()))
	for sc.Scan() {
		var ev api.WatchEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		out = append(out, ev)
	}
	return out
}

// startStuckWatcher serves GET /v1/watch?query to a client that stops reading, in the
// background; done closes when the handler returns.
func startStuckWatcher(t *testing.T, n *testcluster.Node, query, token string) (w *stuckWriter, done chan struct{}) {
	t.Helper()
	return startStuckRequest(t, n, "GET", query, "", token)
}

// startStuckRequest serves a watch request (GET with query, POST with body) to a client that
// stops reading, in the background; done closes when the handler returns.
func startStuckRequest(t *testing.T, n *testcluster.Node, method, query, body, token string) (w *stuckWriter, done chan struct{}) {
	t.Helper()
	w, done = newStuckWriter(), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, method, "/v1/watch?"+query, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	go func() {
		defer close(done)
		n.API.Handler().ServeHTTP(w, req)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-w.release:
		default:
			close(w.release)
		}
		<-done
	})
	return w, done
}

func putMappings(t *testing.T, n *testcluster.Node, from, count int) {
	t.Helper()
	for i := from; i < from+count; i++ {
		uuid := fmt.Sprintf("bbbbbbbb-0000-0000-0000-%012d", i)
		if a := call(t, n.Addr, "PUT", "/v1/instance-mappings/"+uuid, `{"cell_uuid":"`+cellA+`","project_id":"p1"}`); a.status != 200 && a.status != 201 {
			t.Fatalf("put %s: %d %s", uuid, a.status, a.raw)
		}
	}
}

func limitedNode(t *testing.T, cfg watch.Config) *testcluster.Node {
	t.Helper()
	return testcluster.StartNode(t, &testcluster.Options{APIConfig: func(c *httpapi.Config) { c.Watch = cfg }})
}

// TestWatchSlowConsumerCut: a watcher that stops reading while more than its buffer of
// events arrive is cut: once it reads again, its stream holds whole lines ending with a
// slow_consumer error, and the writes made meanwhile all completed (the apply path does not
// wait for it). Role: reader may watch.
func TestWatchSlowConsumerCut(t *testing.T) {
	n := limitedNode(t, watch.Config{Ring: 64, MaxWatchers: 10, Buffer: 2})
	reader := tokensByRole(t, n)[acl.RoleReader]
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	w, done := startStuckWatcher(t, n, "kinds=instance_mappings", reader)
	testkit.WaitFor(t, "the watcher to follow the hub", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 1 })

	putMappings(t, n, 0, 1)
	select { // the first event is being written: the client does not take it
	case <-w.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the watcher never wrote the first event")
	}
	putMappings(t, n, 1, 5) // all five return while the watcher is stuck
	close(w.release)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the slow watcher was not cut")
	}
	lines := w.lines(t)
	if len(lines) != 2 || lines[0].Type != api.WatchTypeEvent || lines[1].Type != api.WatchTypeError || lines[1].Code != api.CodeSlowConsumer {
		t.Fatalf("stream %+v, want the first event then a slow_consumer error", lines)
	}
	if lines[1].Revision != lines[0].Revision {
		t.Fatalf("slow_consumer at revision %d, want the last delivered %d (resume point)", lines[1].Revision, lines[0].Revision)
	}
	if s := n.API.WatchStats(); s.SlowConsumers != 1 || s.Watchers != 0 {
		t.Fatalf("stats %+v, want one slow consumer and no watcher left", s)
	}
}

// TestWatchApplyNeverBlocks: with a stuck watcher attached, more writes than the hub's ring
// holds all complete, and a watcher that reads gets every one of them in order (the stuck
// one is cut when it reads again). Role: reader may watch.
func TestWatchApplyNeverBlocks(t *testing.T) {
	n := limitedNode(t, watch.Config{Ring: 16, MaxWatchers: 10, Buffer: 4})
	reader := tokensByRole(t, n)[acl.RoleReader]
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	stuck, done := startStuckWatcher(t, n, "", reader)
	testkit.WaitFor(t, "the stuck watcher to follow the hub", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 1 })
	good, _ := openWatch(t, n.Addr, "kinds=instance_mappings", reader)
	testkit.WaitFor(t, "the reading watcher to follow the hub", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 2 })

	putMappings(t, n, 0, 1)
	<-stuck.entered
	const writes = 60 // well past the ring (16) and the buffer (4)
	putMappings(t, n, 1, writes-1)
	var want []evWant
	for i := range writes {
		want = append(want, evWant{"instance_mappings", "put", fmt.Sprintf("bbbbbbbb-0000-0000-0000-%012d", i)})
	}
	good.expect(want...)

	close(stuck.release)
	<-done
	lines := stuck.lines(t)
	if last := lines[len(lines)-1]; last.Code != api.CodeSlowConsumer {
		t.Fatalf("stuck watcher's last line %+v, want slow_consumer", last)
	}
}

// TestWatchCap: a node serves at most MaxWatchers change streams; one more is refused with
// 503 busy, Retry-After and a JSON error body, and is served again once a stream ends. No
// token is refused with 401 before counting. Role: reader may watch.
func TestWatchCap(t *testing.T) {
	n := limitedNode(t, watch.Config{Ring: 16, MaxWatchers: 2, Buffer: 4})
	reader := tokensByRole(t, n)[acl.RoleReader]
	if _, resp := openWatch(t, n.Addr, "", ""); resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: got %v, want 401", resp)
	}
	first, _ := openWatch(t, n.Addr, "progress_interval=50ms", reader) // a hang-up is noticed at a progress line
	openWatch(t, n.Addr, "", reader)
	_, resp := openWatch(t, n.Addr, "", reader)
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third watcher: got %v, want 503 with Retry-After", resp)
	}
	var body api.Error
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Detail.Code != api.CodeBusy {
		t.Fatalf("third watcher's body %+v (%v), want code busy", body, err)
	}
	resp.Body.Close()
	if s := n.API.WatchStats(); s.Refused != 1 || s.Watchers != 2 {
		t.Fatalf("stats %+v, want 2 watchers and 1 refused", s)
	}
	first.cancel()
	testkit.WaitFor(t, "the ended stream to be released", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 1 })
	if w, resp := openWatch(t, n.Addr, "", reader); w == nil {
		t.Fatalf("after a stream ended: got %v, want 200", resp)
	}
}

// TestWatchCatchUpJoinsLive: a watcher that starts from since=0 while writes keep coming
// reads the history, joins the hub (a small ring and buffer make it try several times) and
// gets every change exactly once, in order, across the switch. Role: reader may watch.
func TestWatchCatchUpJoinsLive(t *testing.T) {
	n := limitedNode(t, watch.Config{Ring: 32, MaxWatchers: 10, Buffer: 8})
	reader := tokensByRole(t, n)[acl.RoleReader]
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	const writes = 150
	putMappings(t, n, 0, 50)
	w, _ := openWatch(t, n.Addr, "since=0&kinds=instance_mappings", reader)
	putMappings(t, n, 50, writes-50) // while the stream reads the history (its lines queue client-side)
	var want []evWant
	for i := range writes {
		want = append(want, evWant{"instance_mappings", "put", fmt.Sprintf("bbbbbbbb-0000-0000-0000-%012d", i)})
	}
	w.expect(want...)
	putMappings(t, n, writes, 1) // and live after: nothing repeated in between
	w.expect(evWant{"instance_mappings", "put", fmt.Sprintf("bbbbbbbb-0000-0000-0000-%012d", writes)})
}
