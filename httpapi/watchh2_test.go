package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/transport"
	"github.com/cellmap/cellmap/watch"
)

// h2cClient speaks HTTP/2 in cleartext with prior knowledge: all its requests to a node share
// one connection. streamWindow, when positive, is how many bytes of one response it takes
// before the application reads them (HTTP/2 flow control).
func h2cClient(t *testing.T, streamWindow int) *http.Client {
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	if streamWindow > 0 {
		tr.HTTP2 = &http.HTTP2Config{MaxReceiveBufferPerStream: streamWindow}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// callVia sends an admin request with hc and returns the status.
func callVia(t *testing.T, hc *http.Client, base, method, path, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testkit.AdminToken)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func mappingBody(project string) string {
	return `{"cell_uuid":"` + cellA + `","project_id":"` + project + `"}`
}

func putMapping(t *testing.T, addr, uuid, project string) {
	t.Helper()
	if a := call(t, addr, "PUT", "/v1/instance-mappings/"+uuid, mappingBody(project)); a.status != 200 && a.status != 201 {
		t.Fatalf("put %s: %d %s", uuid, a.status, a.raw)
	}
}

// TestWatchHTTP2OneConnection: over HTTP/2 in cleartext (h2c), several change streams share
// one connection; each receives the events of its own filter exactly once, in revision
// order; cancelling one releases its place in the hub and disturbs neither the others nor
// a new stream on the same connection. Role: a reader may watch; a request without a token
// is refused with 401 on the same connection.
func TestWatchHTTP2OneConnection(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	reader := tokensByRole(t, n)[acl.RoleReader]
	hc, base := h2cClient(t, 0), "http://"+n.Addr
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	if _, resp := openWatchVia(t, hc, base, "", ""); resp == nil || resp.StatusCode != http.StatusUnauthorized || resp.ProtoMajor != 2 {
		t.Fatalf("no token over h2c: got %v, want 401 over HTTP/2", resp)
	}

	p1, _ := openWatchVia(t, hc, base, "kinds=instance_mappings&project_id=p1", reader)
	p2, _ := openWatchVia(t, hc, base, "kinds=instance_mappings&project_id=p2", reader)
	hosts, _ := openWatchVia(t, hc, base, "kinds=host_mappings", reader)
	for _, w := range []*watcher{p1, p2, hosts} {
		if w == nil || w.resp.ProtoMajor != 2 || w.local != p1.local {
			t.Fatalf("stream %+v: want HTTP/2 on the connection of the first (%s)", w, p1.local)
		}
	}
	testkit.WaitFor(t, "three streams to follow the hub", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 3 })

	putMapping(t, n.Addr, inst1, "p1")
	putMapping(t, n.Addr, inst2, "p2")
	call(t, n.Addr, "PUT", "/v1/hosts/h1", `{"cell_uuid":"`+cellA+`"}`)
	putMapping(t, n.Addr, inst3, "p1")
	call(t, n.Addr, "DELETE", "/v1/instance-mappings/"+inst1, "")
	p1.expect(evWant{"instance_mappings", "put", inst1}, evWant{"instance_mappings", "put", inst3}, evWant{"instance_mappings", "delete", inst1})
	p2.expect(evWant{"instance_mappings", "put", inst2})
	hosts.expect(evWant{"host_mappings", "put", "h1"})

	// Cancelling p2's stream releases its place; the others and a new stream on the same
	// connection go on. Every next event is the next write of its filter: nothing repeated.
	p2.cancel()
	testkit.WaitFor(t, "the cancelled stream to be released", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 2 })
	again, _ := openWatchVia(t, hc, base, "kinds=instance_mappings&project_id=p2", reader)
	if again == nil || again.local != p1.local {
		t.Fatalf("new stream %+v: want it on the same connection (%s)", again, p1.local)
	}
	testkit.WaitFor(t, "the new stream to follow the hub", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 3 })
	putMapping(t, n.Addr, inst2, "p2") // an update
	call(t, n.Addr, "PUT", "/v1/hosts/h2", `{"cell_uuid":"`+cellA+`"}`)
	putMapping(t, n.Addr, inst1, "p1")
	p1.expect(evWant{"instance_mappings", "put", inst1})
	again.expect(evWant{"instance_mappings", "put", inst2})
	hosts.expect(evWant{"host_mappings", "put", "h2"})
}

// TestWatchHTTP2OverTLS: a TLS client offering h2 by ALPN gets HTTP/2 and its change stream
// follows writes live with progress lines; a client offering only HTTP/1.1 still gets
// HTTP/1.1 and its stream too. Role: a reader may watch; no token is refused with 401.
func TestWatchHTTP2OverTLS(t *testing.T) {
	p := testcluster.NewPKI(t)
	n := testcluster.StartNode(t, &testcluster.Options{TLS: p.Reloader(t, transport.NodeIdentity("n1"))})
	reader := tokensByRole(t, n)[acl.RoleReader]
	h2 := &http.Transport{TLSClientConfig: p.ClientTLS(t, ""), Protocols: new(http.Protocols)}
	h2.Protocols.SetHTTP1(true)
	h2.Protocols.SetHTTP2(true)
	h1 := &http.Transport{TLSClientConfig: p.ClientTLS(t, "")}
	t.Cleanup(h2.CloseIdleConnections)
	t.Cleanup(h1.CloseIdleConnections)
	hc, base := &http.Client{Transport: h2}, n.URL
	if st := callVia(t, hc, base, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a")); st != http.StatusCreated {
		t.Fatalf("create cell: %d", st)
	}
	if _, resp := openWatchVia(t, hc, base, "", ""); resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: got %v, want 401", resp)
	}
	w2, _ := openWatchVia(t, hc, base, "kinds=host_mappings&progress_interval=50ms", reader)
	w1, _ := openWatchVia(t, &http.Client{Transport: h1}, base, "kinds=host_mappings", reader)
	if w2 == nil || w2.resp.ProtoMajor != 2 || w2.resp.TLS.NegotiatedProtocol != "h2" {
		t.Fatalf("h2 client: got %+v, want HTTP/2 negotiated by ALPN", w2)
	}
	if w1 == nil || w1.resp.ProtoMajor != 1 {
		t.Fatalf("HTTP/1.1 client: got %+v, want HTTP/1.1", w1)
	}
	testkit.WaitFor(t, "both streams to follow the hub", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 2 })
	for _, h := range []string{"h1", "h2"} {
		if st := callVia(t, hc, base, "PUT", "/v1/hosts/"+h, `{"cell_uuid":"`+cellA+`"}`); st != http.StatusOK && st != http.StatusCreated {
			t.Fatalf("put host %s: %d", h, st)
		}
	}
	last := w2.expect(evWant{"host_mappings", "put", "h1"}, evWant{"host_mappings", "put", "h2"})[1]
	w1.expect(evWant{"host_mappings", "put", "h1"}, evWant{"host_mappings", "put", "h2"})
	w2.progressAt(last.Revision)
}

// rawStream opens a change stream with hc and returns its body unread.
func rawStream(t *testing.T, hc *http.Client, base, query, token string) io.ReadCloser {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/watch?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Fatalf("watch: %s over %s, want 200 over HTTP/2", resp.Status, resp.Proto)
	}
	return resp.Body
}

// TestWatchHTTP2SlowConsumerCut: over HTTP/2 a client that stops reading (its stream's flow
// control window of 4 KiB fills) while more than the watcher's buffer of events arrive is
// cut: once it reads again its stream holds whole lines in order ending with a slow_consumer
// error at the revision it has, the stream ends, and the hub's place is released. The writes
// all completed meanwhile. Role: a reader may watch.
func TestWatchHTTP2SlowConsumerCut(t *testing.T) {
	n := limitedNode(t, watch.Config{Ring: 64, MaxWatchers: 10, Buffer: 2})
	reader := tokensByRole(t, n)[acl.RoleReader]
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	body := rawStream(t, h2cClient(t, 4096), "http://"+n.Addr, "kinds=instance_mappings", reader)
	testkit.WaitFor(t, "the watcher to follow the hub", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 1 })

	// ~20 KiB of lines: the window fills, the handler waits in a write, the hub moves on (a
	// handler slower still is behind by more than its buffer all the same).
	putMappings(t, n, 0, 100)
	var lines []api.WatchEvent
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		var ev api.WatchEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		lines = append(lines, ev)
	}
	if len(lines) < 2 {
		t.Fatalf("stream %+v, want events then slow_consumer", lines)
	}
	last := lines[len(lines)-1]
	if last.Type != api.WatchTypeError || last.Code != api.CodeSlowConsumer || last.Revision != lines[len(lines)-2].Revision {
		t.Fatalf("last line %+v after %+v, want slow_consumer at the last delivered revision", last, lines[len(lines)-2])
	}
	for i, ev := range lines[:len(lines)-1] {
		if want := fmt.Sprintf("bbbbbbbb-0000-0000-0000-%012d", i); ev.Type != api.WatchTypeEvent || ev.Key != want {
			t.Fatalf("line %d: %+v, want the put of %s", i, ev, want)
		}
	}
	testkit.WaitFor(t, "the cut stream to be released", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 0 })
	if s := n.API.WatchStats(); s.SlowConsumers != 1 {
		t.Fatalf("stats %+v, want one slow consumer", s)
	}
}

// shortTimeoutNode is a node that drops a change stream whose client takes nothing for
// 200 ms, and whose server bounds a request's reading and writing, and an idle connection, by
// 200 ms as well.
func shortTimeoutNode(t *testing.T) *testcluster.Node {
	return testcluster.StartNode(t, &testcluster.Options{APIConfig: func(c *httpapi.Config) {
		c.WatchWriteTimeout = 200 * time.Millisecond
		c.Timeouts = transport.ServerTimeouts{ReadHeader: 200 * time.Millisecond, Read: 200 * time.Millisecond, Write: 200 * time.Millisecond, Idle: 200 * time.Millisecond}
	}})
}

// TestWatchHTTP2IdleStreamLives: a stream idle for longer than WatchWriteTimeout and every
// server timeout (read, write, idle) between its progress lines is not dropped, over HTTP/2
// as over HTTP/1.1 (the write bound is on a write the client does not take, not on the time
// between writes; the server's bounds are lifted for change streams). Role: a reader may
// watch.
func TestWatchHTTP2IdleStreamLives(t *testing.T) {
	n := shortTimeoutNode(t)
	reader := tokensByRole(t, n)[acl.RoleReader]
	w2, _ := openWatchVia(t, h2cClient(t, 0), "http://"+n.Addr, "progress_interval=500ms", reader)
	w1, _ := openWatch(t, n.Addr, "progress_interval=500ms", reader)
	if w2 == nil || w2.resp.ProtoMajor != 2 || w1 == nil || w1.resp.ProtoMajor != 1 {
		t.Fatalf("watches %+v and %+v, want one over HTTP/2 and one over HTTP/1.1", w2, w1)
	}
	rev := n.Node.AppliedIndex()
	for range 4 { // each ~500 ms after the last write: more than every 200 ms bound
		w2.progressAt(rev)
		w1.progressAt(rev)
	}
}

// TestWatchHTTP2StuckClientReleased: over HTTP/2 a client that stops reading for good (its
// flow control window is full) loses its stream after WatchWriteTimeout, and the hub's place
// is released, though the client never reads or hangs up. Role: a reader may watch.
func TestWatchHTTP2StuckClientReleased(t *testing.T) {
	n := shortTimeoutNode(t)
	reader := tokensByRole(t, n)[acl.RoleReader]
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	rawStream(t, h2cClient(t, 4096), "http://"+n.Addr, "kinds=instance_mappings&progress_interval=100ms", reader)
	testkit.WaitFor(t, "the watcher to follow the hub", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 1 })
	putMappings(t, n, 0, 100)
	testkit.WaitFor(t, "the stuck stream to be dropped", 20*time.Second, func() bool { return n.API.WatchStats().Watchers == 0 })
}
