package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/node"
)

// watcher reads a change stream line by line.
type watcher struct {
	t      *testing.T
	resp   *http.Response
	lines  chan api.WatchEvent
	cancel context.CancelFunc
	// local is the client's end of the connection the stream came on.
	local string
}

func openWatch(t *testing.T, addr, query, token string) (*watcher, *http.Response) {
	t.Helper()
	return openWatchVia(t, http.DefaultClient, "http://"+addr, query, token)
}

// openWatchVia opens a stream with hc on the node at base (scheme://host:port).
func openWatchVia(t *testing.T, hc *http.Client, base, query, token string) (*watcher, *http.Response) {
	t.Helper()
	return openWatchRequest(t, hc, "GET", base+"/v1/watch?"+query, "", token)
}

// openWatchRequest sends a watch request (GET, or POST with body) and reads its stream; a
// refusal returns the answer only.
func openWatchRequest(t *testing.T, hc *http.Client, method, url, body, token string) (*watcher, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var local string
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) { local = ci.Conn.LocalAddr().String() }})
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		cancel()
		return nil, resp
	}
	w := &watcher{t: t, resp: resp, lines: make(chan api.WatchEvent, 1024), cancel: cancel, local: local}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	go func() {
		defer close(w.lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var ev api.WatchEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Errorf("bad line %q: %v", sc.Text(), err)
				return
			}
			w.lines <- ev
		}
	}()
	return w, resp
}

// next returns the next event that is not progress, or fails after a deadline.
func (w *watcher) next() api.WatchEvent {
	w.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-w.lines:
			if !ok {
				w.t.Fatal("stream ended")
			}
			if ev.Type != api.WatchTypeProgress {
				return ev
			}
		case <-deadline:
			w.t.Fatal("no event before the deadline")
		}
	}
}

// progressAt waits for a progress line at revision >= rev.
func (w *watcher) progressAt(rev uint64) {
	w.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-w.lines:
			if !ok {
				w.t.Fatal("stream ended")
			}
			if ev.Type == api.WatchTypeEvent {
				w.t.Fatalf("unexpected event %+v while waiting for progress at %d", ev, rev)
			}
			if ev.Type == api.WatchTypeProgress && ev.Revision >= rev {
				return
			}
		case <-deadline:
			w.t.Fatalf("no progress at %d before the deadline", rev)
		}
	}
}

type evWant struct {
	kind, op, key string
}

func (w *watcher) expect(wants ...evWant) []api.WatchEvent {
	w.t.Helper()
	var got []api.WatchEvent
	var lastRev uint64
	var lastSub uint32
	for i, want := range wants {
		ev := w.next()
		if ev.Type != api.WatchTypeEvent || ev.Kind != want.kind || ev.Op != want.op || ev.Key != want.key {
			w.t.Fatalf("event %d: got %+v, want %+v", i, ev, want)
		}
		if i > 0 && (ev.Revision < lastRev || (ev.Revision == lastRev && ev.Sub <= lastSub)) {
			w.t.Fatalf("event %d out of order: %d.%d after %d.%d", i, ev.Revision, ev.Sub, lastRev, lastSub)
		}
		lastRev, lastSub = ev.Revision, ev.Sub
		got = append(got, ev)
	}
	return got
}

// TestWatchStream: a reader's change stream from since=0 delivers every change of a scripted
// sequence once, in revision order (a txn's changes under one revision, by sub-index),
// masks cell secrets, follows new writes live, and filters by kind, project and cell. Role:
// reader may watch; no token is refused with 401.
func TestWatchStream(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	reader := tokensByRole(t, n)[acl.RoleReader]
	if _, resp := openWatch(t, n.Addr, "since=0", ""); resp == nil || resp.StatusCode != 401 {
		t.Fatalf("no token: got %v, want 401", resp)
	}
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://u:secret@a/", "mysql://u:secret@a"))
	call(t, n.Addr, "PUT", "/v1/instance-mappings/"+inst1, `{"cell_uuid":"`+cellA+`","project_id":"p1"}`)
	txn := `{"ops":[{"op":"put","table":"instance_mapping","key":"` + inst2 + `","instance_mapping":{"instance_uuid":"` + inst2 + `","cell_uuid":"` + cellA + `","project_id":"p2"}},` +
		`{"op":"put","table":"host_mapping","key":"h1","host_mapping":{"host":"h1","cell_uuid":"` + cellA + `"}}]}`
	if a := call(t, n.Addr, "POST", "/v1/txn", txn); a.status != 200 {
		t.Fatalf("txn: %d %s", a.status, a.raw)
	}

	w, _ := openWatch(t, n.Addr, "since=0&progress_interval=50ms", reader)
	evs := w.expect(
		evWant{"cells", "put", cellA},
		evWant{"instance_mappings", "put", inst1},
		evWant{"instance_mappings", "put", inst2},
		evWant{"host_mappings", "put", "h1"},
	)
	if evs[2].Revision != evs[3].Revision || evs[3].Sub != 1 {
		t.Fatalf("txn changes: %d.%d and %d.%d, want one revision, subs 0 and 1", evs[2].Revision, evs[2].Sub, evs[3].Revision, evs[3].Sub)
	}
	if strings.Contains(string(evs[0].Record), "secret") {
		t.Fatalf("a reader sees cell secrets in the stream: %s", evs[0].Record)
	}
	// Live: a delete carries the record as it was.
	del := call(t, n.Addr, "DELETE", "/v1/instance-mappings/"+inst1, "")
	ev := w.expect(evWant{"instance_mappings", "delete", inst1})[0]
	if !strings.Contains(string(ev.Record), `"project_id":"p1"`) || ev.Revision != indexOf(t, del) {
		t.Fatalf("delete event %+v (%s), want the p1 record at %d", ev, ev.Record, indexOf(t, del))
	}
	w.progressAt(ev.Revision)

	// Filters: project p2 sees only its mapping; a cell filter sees the cell and what is in it.
	wp, _ := openWatch(t, n.Addr, "since=0&project_id=p2", reader)
	wp.expect(evWant{"instance_mappings", "put", inst2})
	wk, _ := openWatch(t, n.Addr, "since=0&kinds=host_mappings,cells", reader)
	wk.expect(evWant{"cells", "put", cellA}, evWant{"host_mappings", "put", "h1"})
	call(t, n.Addr, "PUT", "/v1/instance-mappings/"+inst3, `{"cell_uuid":"`+cellA+`","project_id":"p2"}`)
	call(t, n.Addr, "PUT", "/v1/hosts/h2", `{"cell_uuid":"`+cellA+`"}`)
	wp.expect(evWant{"instance_mappings", "put", inst3})
	wk.expect(evWant{"host_mappings", "put", "h2"})
}

// TestWatchRefusals: bad parameters answer 400, a project-scoped reader asking for another
// project 403, and nothing changes. Role: reader (scoped or not).
func TestWatchRefusals(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	scoped, err := n.Client.CreateToken(context.Background(), api.TokenCreate{Description: "p1 reader", Role: "reader", ProjectID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query, token string
		status       int
	}{
		{"kinds=servers", testkit.AdminToken, 400},
		{"since=x", testkit.AdminToken, 400},
		{"cell_uuid=nope", testkit.AdminToken, 400},
		{"consistency=eventual", testkit.AdminToken, 400},
		{"progress_interval=1ns", testkit.AdminToken, 400},
		{"project_id=p2", scoped.Secret, 403},
	} {
		if _, resp := openWatch(t, n.Addr, tc.query, tc.token); resp == nil || resp.StatusCode != tc.status {
			t.Errorf("%s: got %v, want %d", tc.query, resp, tc.status)
		}
	}
	// The scoped reader's stream holds its project only.
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	call(t, n.Addr, "PUT", "/v1/instance-mappings/"+inst1, `{"cell_uuid":"`+cellA+`","project_id":"p2"}`)
	call(t, n.Addr, "PUT", "/v1/instance-mappings/"+inst2, `{"cell_uuid":"`+cellA+`","project_id":"p1"}`)
	w, _ := openWatch(t, n.Addr, "since=0", scoped.Secret)
	w.expect(evWant{"instance_mappings", "put", inst2})
}

// TestWatchCompacted: a since older than the history the node keeps answers 410 compacted
// with the oldest since it serves; from that since the stream works. Role: reader.
func TestWatchCompacted(t *testing.T) {
	n := testcluster.StartNode(t, &testcluster.Options{NodeConfig: func(c *node.Config) {
		c.EventRetention = fsm.Retention{MaxEvents: 2, MaxAge: time.Hour}
	}})
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	for _, u := range []string{inst1, inst2, inst3} {
		call(t, n.Addr, "PUT", "/v1/instance-mappings/"+u, `{"cell_uuid":"`+cellA+`","project_id":"p1"}`)
	}
	_, resp := openWatch(t, n.Addr, "since=0", testkit.AdminToken)
	if resp == nil || resp.StatusCode != http.StatusGone {
		t.Fatalf("since=0: got %v, want 410", resp)
	}
	var body api.Error
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	floor := resp.Header.Get(api.HeaderCompacted)
	if body.Detail.Code != api.CodeCompacted || floor == "" {
		t.Fatalf("got %+v, %s %q; want code compacted and the oldest since", body, api.HeaderCompacted, floor)
	}
	w, _ := openWatch(t, n.Addr, "since="+floor, testkit.AdminToken)
	w.expect(evWant{"instance_mappings", "put", inst2}, evWant{"instance_mappings", "put", inst3})
}

// TestWatchAPILevelKinds: images, aggregates, server groups and quotas are in the stream too,
// each record in its GET's shape (quota records as {project_id, values}). Role: reader may
// watch them; the writes are an admin's.
func TestWatchAPILevelKinds(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	reader := tokensByRole(t, n)[acl.RoleReader]
	w, _ := openWatch(t, n.Addr, "kinds=images,aggregates,server_groups,quota_limits,quota_usages&progress_interval=50ms", reader)
	w.progressAt(0) // the stream is open: the writes below are live
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/images", `{"id": "i1", "name": "cirros", "disk_format": "qcow2", "container_format": "bare"}`},
		{"POST", "/v1/aggregates", `{"name": "rack1", "availability_zone": "az1"}`},
		{"POST", "/v1/server-groups", `{"name": "g", "project_id": "p1", "policy": "anti-affinity"}`},
		{"PUT", "/v1/quotas/p1", `{"instances": 7}`},
	} {
		if a := call(t, n.Addr, c.method, c.path, c.body); a.status >= 300 {
			t.Fatalf("%s %s: %d %s", c.method, c.path, a.status, a.raw)
		}
	}
	evs := []api.WatchEvent{w.next(), w.next(), w.next(), w.next()}
	for i, want := range []struct{ kind, field string }{
		{"images", `"disk_format":"qcow2"`}, {"aggregates", `"availability_zone":"az1"`},
		{"server_groups", `"policy":"anti-affinity"`}, {"quota_limits", `"values":{"instances":7`},
	} {
		if evs[i].Kind != want.kind || evs[i].Op != "put" || !strings.Contains(string(evs[i].Record), want.field) {
			t.Fatalf("event %d: %+v %s, want a %s put with %s", i, evs[i], evs[i].Record, want.kind, want.field)
		}
	}
}
