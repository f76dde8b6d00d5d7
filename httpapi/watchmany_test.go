package httpapi_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/node"
	"github.com/cellmap/cellmap/watch"
)

func openWatchMany(t *testing.T, addr, body, token string) (*watcher, *http.Response) {
	t.Helper()
	return openWatchRequest(t, http.DefaultClient, "POST", "http://"+addr+"/v1/watch", body, token)
}

// expectMany reads the stream until every watch has had its wanted lines, and checks that
// each watch's lines are exactly those, in revision order; then that nothing more comes for
// any watch before a progress line at the last revision. Progress lines carry no watch id.
func (w *watcher) expectMany(want map[string][]evWant) map[string][]api.WatchEvent {
	w.t.Helper()
	got := map[string][]api.WatchEvent{}
	left := 0
	for _, ws := range want {
		left += len(ws)
	}
	var last uint64
	deadline := time.After(20 * time.Second)
	for left > 0 {
		var ev api.WatchEvent
		select {
		case e, ok := <-w.lines:
			if !ok {
				w.t.Fatalf("stream ended; got %v", got)
			}
			ev = e
		case <-deadline:
			w.t.Fatalf("not every line before the deadline: got %v, want %v", got, want)
		}
		if ev.Type == api.WatchTypeProgress {
			if ev.WatchID != "" {
				w.t.Fatalf("progress line with a watch id: %+v", ev)
			}
			continue
		}
		ws, seen := want[ev.WatchID], got[ev.WatchID]
		if len(seen) >= len(ws) {
			w.t.Fatalf("watch %q: unexpected line %+v after %d wanted ones", ev.WatchID, ev, len(ws))
		}
		if x := ws[len(seen)]; ev.Type != api.WatchTypeEvent || ev.Kind != x.kind || ev.Op != x.op || ev.Key != x.key {
			w.t.Fatalf("watch %q line %d: got %+v, want %+v", ev.WatchID, len(seen), ev, x)
		}
		if n := len(seen); n > 0 && (ev.Revision < seen[n-1].Revision || ev.Revision == seen[n-1].Revision && ev.Sub <= seen[n-1].Sub) {
			w.t.Fatalf("watch %q out of order: %d.%d after %d.%d", ev.WatchID, ev.Revision, ev.Sub, seen[n-1].Revision, seen[n-1].Sub)
		}
		got[ev.WatchID] = append(seen, ev)
		last = max(last, ev.Revision)
		left--
	}
	w.progressAt(last) // fails on any further event
	return got
}

// TestWatchMany: one POST /v1/watch stream serves four watches, each with its own since and
// filters; every watch gets exactly its events of a scripted sequence (history, then live),
// once each and in order, each line naming its watch; the stream counts four watchers while
// open and none once the client leaves. Role: reader may watch this way; no token is 401.
func TestWatchMany(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	reader := tokensByRole(t, n)[acl.RoleReader]
	if _, resp := openWatchMany(t, n.Addr, `{"watches":[{"id":"a"}]}`, ""); resp == nil || resp.StatusCode != 401 {
		t.Fatalf("no token: got %v, want 401", resp)
	}
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://u:secret@a/", "mysql://u:secret@a"))
	put1 := call(t, n.Addr, "PUT", "/v1/instance-mappings/"+inst1, `{"cell_uuid":"`+cellA+`","project_id":"p1"}`)
	txn := `{"ops":[{"op":"put","table":"instance_mapping","key":"` + inst2 + `","instance_mapping":{"instance_uuid":"` + inst2 + `","cell_uuid":"` + cellA + `","project_id":"p2"}},` +
		`{"op":"put","table":"host_mapping","key":"h1","host_mapping":{"host":"h1","cell_uuid":"` + cellA + `"}}]}`
	if a := call(t, n.Addr, "POST", "/v1/txn", txn); a.status != 200 {
		t.Fatalf("txn: %d %s", a.status, a.raw)
	}
	body := fmt.Sprintf(`{"progress_interval":"50ms","watches":[
		{"id":"all","since":0},
		{"id":"p2","since":0,"project_id":"p2"},
		{"id":"hosts","kinds":["host_mappings"]},
		{"id":"later.1","since":%d,"kinds":["instance_mappings"]}]}`, indexOf(t, put1))
	w, resp := openWatchMany(t, n.Addr, body, reader)
	if w == nil {
		t.Fatalf("POST /v1/watch: %v", resp)
	}
	got := w.expectMany(map[string][]evWant{
		"all":     {{"cells", "put", cellA}, {"instance_mappings", "put", inst1}, {"instance_mappings", "put", inst2}, {"host_mappings", "put", "h1"}},
		"p2":      {{"instance_mappings", "put", inst2}},
		"later.1": {{"instance_mappings", "put", inst2}},
	})
	if strings.Contains(string(got["all"][0].Record), "secret") {
		t.Fatalf("a reader sees cell secrets: %s", got["all"][0].Record)
	}
	if st := n.API.WatchStats(); st.Watchers != 4 {
		t.Fatalf("watchers %d, want 4 (one per watch)", st.Watchers)
	}
	call(t, n.Addr, "PUT", "/v1/instance-mappings/"+inst3, `{"cell_uuid":"`+cellA+`","project_id":"p2"}`)
	call(t, n.Addr, "PUT", "/v1/hosts/h2", `{"cell_uuid":"`+cellA+`"}`)
	call(t, n.Addr, "DELETE", "/v1/instance-mappings/"+inst1, "")
	w.expectMany(map[string][]evWant{
		"all":     {{"instance_mappings", "put", inst3}, {"host_mappings", "put", "h2"}, {"instance_mappings", "delete", inst1}},
		"p2":      {{"instance_mappings", "put", inst3}},
		"hosts":   {{"host_mappings", "put", "h2"}},
		"later.1": {{"instance_mappings", "put", inst3}, {"instance_mappings", "delete", inst1}},
	})
	w.cancel()
	testkit.WaitFor(t, "the stream's watches to be released", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 0 })
}

// TestWatchManyRefusals: a bad request answers 400 (403 for another project with a scoped
// token, 503 busy when its watches do not fit under the cap) and holds no watcher. Role:
// reader (scoped or not).
func TestWatchManyRefusals(t *testing.T) {
	n := limitedNode(t, watch.Config{Ring: 64, MaxWatchers: 3, Buffer: 8})
	scoped, err := n.Client.CreateToken(t.Context(), api.TokenCreate{Description: "p1 reader", Role: "reader", ProjectID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	many := func(k int) string {
		ws := make([]string, k)
		for i := range ws {
			ws[i] = fmt.Sprintf(`{"id":"w%d"}`, i)
		}
		return `{"watches":[` + strings.Join(ws, ",") + `]}`
	}
	for _, tc := range []struct {
		name, body, token string
		status            int
	}{
		{"no watches", `{"watches":[]}`, testkit.AdminToken, 400},
		{"too many", many(api.MaxWatchesPerRequest + 1), testkit.AdminToken, 400},
		{"over the cap", many(4), testkit.AdminToken, 503},
		{"no id", `{"watches":[{"kinds":["cells"]}]}`, testkit.AdminToken, 400},
		{"id twice", `{"watches":[{"id":"a"},{"id":"a"}]}`, testkit.AdminToken, 400},
		{"id with a quote", `{"watches":[{"id":"a\"b"}]}`, testkit.AdminToken, 400},
		{"long id", `{"watches":[{"id":"` + strings.Repeat("x", api.MaxWatchIDLen+1) + `"}]}`, testkit.AdminToken, 400},
		{"unknown kind", `{"watches":[{"id":"a","kinds":["servers"]}]}`, testkit.AdminToken, 400},
		{"since not a number", `{"watches":[{"id":"a","since":"x"}]}`, testkit.AdminToken, 400},
		{"bad cell", `{"watches":[{"id":"a","cell_uuid":"nope"}]}`, testkit.AdminToken, 400},
		{"unknown field", `{"watches":[{"id":"a"}],"revision":3}`, testkit.AdminToken, 400},
		{"bad consistency", `{"watches":[{"id":"a"}],"consistency":"eventual"}`, testkit.AdminToken, 400},
		{"bad progress", `{"watches":[{"id":"a"}],"progress_interval":"1ns"}`, testkit.AdminToken, 400},
		{"not JSON", `watches`, testkit.AdminToken, 400},
		{"other project", `{"watches":[{"id":"a"},{"id":"b","project_id":"p2"}]}`, scoped.Secret, 403},
	} {
		_, resp := openWatchMany(t, n.Addr, tc.body, tc.token)
		if resp == nil || resp.StatusCode != tc.status {
			t.Errorf("%s: got %v, want %d", tc.name, resp, tc.status)
			continue
		}
		var e api.Error
		err := json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if err != nil || e.Detail.Code == "" || e.Detail.Message == "" {
			t.Errorf("%s: error body %+v (%v), want a code and a message", tc.name, e, err)
		}
	}
	if st := n.API.WatchStats(); st.Watchers != 0 {
		t.Fatalf("refused requests hold %d watchers", st.Watchers)
	}
	// Three watches fit the cap of three.
	if w, resp := openWatchMany(t, n.Addr, many(3), testkit.AdminToken); w == nil {
		t.Fatalf("three watches under a cap of three: %v", resp)
	}
}

// TestWatchManyCompactedWatchEndsAlone: a watch whose since is compacted ends with its own
// compacted line (its id, the oldest since served) while the other watch of the stream goes
// on with history and live changes. Role: reader.
func TestWatchManyCompactedWatchEndsAlone(t *testing.T) {
	n := testcluster.StartNode(t, &testcluster.Options{NodeConfig: func(c *node.Config) {
		c.EventRetention = fsm.Retention{MaxEvents: 2, MaxAge: time.Hour}
	}})
	reader := tokensByRole(t, n)[acl.RoleReader]
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	var put2 uint64
	for _, u := range []string{inst1, inst2, inst3} {
		a := call(t, n.Addr, "PUT", "/v1/instance-mappings/"+u, `{"cell_uuid":"`+cellA+`","project_id":"p1"}`)
		if u == inst2 {
			put2 = indexOf(t, a)
		}
	}
	body := fmt.Sprintf(`{"watches":[{"id":"old","since":0},{"id":"new","since":%d}],"progress_interval":"50ms"}`, put2-1)
	w, resp := openWatchMany(t, n.Addr, body, reader)
	if w == nil {
		t.Fatalf("POST /v1/watch: %v", resp)
	}
	var ended bool
	var events []api.WatchEvent
	deadline := time.After(20 * time.Second)
	for !ended || len(events) < 2 {
		select {
		case ev, ok := <-w.lines:
			if !ok {
				t.Fatal("stream ended")
			}
			switch {
			case ev.Type == api.WatchTypeError:
				if ev.WatchID != "old" || ev.Code != api.CodeCompacted || ev.Compacted == 0 || ended {
					t.Fatalf("error line %+v, want one compacted line for watch old", ev)
				}
				ended = true
			case ev.Type == api.WatchTypeEvent:
				if ev.WatchID != "new" {
					t.Fatalf("event for %q after its since was compacted: %+v", ev.WatchID, ev)
				}
				events = append(events, ev)
			}
		case <-deadline:
			t.Fatalf("ended %v, events %v before the deadline", ended, events)
		}
	}
	if events[0].Key != inst2 || events[1].Key != inst3 {
		t.Fatalf("watch new got %v, want %s then %s", events, inst2, inst3)
	}
	call(t, n.Addr, "DELETE", "/v1/instance-mappings/"+inst1, "")
	if ev := w.next(); ev.WatchID != "new" || ev.Op != "delete" || ev.Key != inst1 {
		t.Fatalf("live event %+v, want watch new's delete of %s", ev, inst1)
	}
}

// TestWatchManySlowConsumerCut: a stream of two watches whose client stops reading while more
// than the buffer of matching events arrive is cut: each watch gets its own slow_consumer
// line, and the writes all completed meanwhile. Role: reader.
func TestWatchManySlowConsumerCut(t *testing.T) {
	n := limitedNode(t, watch.Config{Ring: 64, MaxWatchers: 10, Buffer: 2})
	reader := tokensByRole(t, n)[acl.RoleReader]
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	w, done := startStuckRequest(t, n, "POST", "", `{"watches":[{"id":"x","kinds":["instance_mappings"]},{"id":"y","kinds":["instance_mappings"],"project_id":"p1"}]}`, reader)
	testkit.WaitFor(t, "the watches to follow the hub", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 2 })
	putMappings(t, n, 0, 1)
	<-w.entered // the stream is stuck writing the first change
	putMappings(t, n, 1, 8)
	close(w.release)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the cut stream did not end")
	}
	cut := map[string]bool{}
	for _, ev := range w.lines(t) {
		if ev.Type == api.WatchTypeError {
			if ev.Code != api.CodeSlowConsumer || cut[ev.WatchID] {
				t.Fatalf("error line %+v", ev)
			}
			cut[ev.WatchID] = true
		}
	}
	if !cut["x"] || !cut["y"] {
		t.Fatalf("slow_consumer lines for %v, want x and y", cut)
	}
	if st := n.API.WatchStats(); st.Watchers != 0 || st.SlowConsumers == 0 {
		t.Fatalf("stats %+v, want no watchers and a slow consumer counted", st)
	}
}

// watchSpec is a random watch of TestWatchManyMatchesSeparateStreams, as a GET query and as a
// POST watch.
type watchSpec struct {
	query string
	spec  map[string]any
}

func randomWatchSpec(rng *rand.Rand, id string, since uint64) watchSpec {
	kinds := []string{"cells", "host_mappings", "instance_mappings"}
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	kinds = kinds[:1+rng.IntN(len(kinds))]
	v := url.Values{"since": {fmt.Sprint(since)}, "kinds": {strings.Join(kinds, ",")}}
	spec := map[string]any{"id": id, "since": since, "kinds": kinds}
	switch rng.IntN(3) {
	case 0:
		p := fmt.Sprintf("p%d", rng.IntN(3))
		v.Set("project_id", p)
		spec["project_id"] = p
	case 1:
		c := []string{cellA, cellB}[rng.IntN(2)]
		v.Set("cell_uuid", c)
		spec["cell_uuid"] = c
	}
	return watchSpec{query: v.Encode(), spec: spec}
}

// scriptedWrites makes count random writes: mappings put in a project and cell (new ones,
// moves, project-less), deletes, host mappings, cell renames. It returns the last index.
func scriptedWrites(t *testing.T, addr string, rng *rand.Rand, count int) uint64 {
	t.Helper()
	var last uint64
	for i := range count {
		var a answer
		uuid := fmt.Sprintf("cccccccc-0000-0000-0000-%012d", rng.IntN(12))
		cell := []string{cellA, cellB}[rng.IntN(2)]
		switch rng.IntN(5) {
		case 0, 1:
			a = call(t, addr, "PUT", "/v1/instance-mappings/"+uuid, fmt.Sprintf(`{"cell_uuid":%q,"project_id":"p%d"}`, cell, rng.IntN(3)))
		case 2:
			if a = call(t, addr, "DELETE", "/v1/instance-mappings/"+uuid, ""); a.status == 404 {
				continue
			}
		case 3:
			a = call(t, addr, "PUT", fmt.Sprintf("/v1/hosts/h%d", rng.IntN(4)), fmt.Sprintf(`{"cell_uuid":%q}`, cell))
		default:
			a = call(t, addr, "PATCH", "/v1/cells/"+cell, fmt.Sprintf(`{"name":"n%d"}`, i))
		}
		if a.status >= 300 {
			t.Fatalf("write %d: %d %s", i, a.status, a.raw)
		}
		last = indexOf(t, a)
	}
	return last
}

// linesUntil reads a stream's lines up to a progress line at rev or later, by watch id.
func (w *watcher) linesUntil(rev uint64) map[string][]string {
	w.t.Helper()
	out := map[string][]string{}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-w.lines:
			if !ok {
				w.t.Fatal("stream ended")
			}
			if ev.Type == api.WatchTypeProgress {
				if ev.Revision >= rev {
					return out
				}
				continue
			}
			id := ev.WatchID
			ev.WatchID = ""
			b, _ := json.Marshal(&ev)
			out[id] = append(out[id], string(b))
		case <-deadline:
			w.t.Fatalf("no progress at %d before the deadline", rev)
		}
	}
}

// TestWatchManyMatchesSeparateStreams: the watches of one POST stream, with random kinds,
// project or cell filters and since, get exactly the lines that a GET stream each with the
// same parameters gets (history, then live), over random scripted writes. Role: reader.
func TestWatchManyMatchesSeparateStreams(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	reader := tokensByRole(t, n)[acl.RoleReader]
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellB, "b", "rabbit://b/", "mysql://b"))
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	mid := scriptedWrites(t, n.Addr, rng, 40)
	const watches = 12
	var specs []map[string]any
	gets := make([]*watcher, watches)
	for i := range watches {
		ws := randomWatchSpec(rng, fmt.Sprint("w", i), uint64(rng.IntN(int(mid))))
		specs = append(specs, ws.spec)
		w, resp := openWatch(t, n.Addr, ws.query+"&progress_interval=20ms", reader)
		if w == nil {
			t.Fatalf("GET %s: %v", ws.query, resp)
		}
		gets[i] = w
	}
	body, _ := json.Marshal(map[string]any{"watches": specs, "progress_interval": "20ms"})
	many, resp := openWatchMany(t, n.Addr, string(body), reader)
	if many == nil {
		t.Fatalf("POST: %v", resp)
	}
	last := scriptedWrites(t, n.Addr, rng, 40)
	got := many.linesUntil(last)
	for i, w := range gets {
		want := w.linesUntil(last)[""]
		id := fmt.Sprint("w", i)
		if !slices.Equal(got[id], want) {
			t.Fatalf("watch %s (%v): the POST stream sent\n%s\nthe GET stream\n%s", id, specs[i], strings.Join(got[id], "\n"), strings.Join(want, "\n"))
		}
		delete(got, id)
	}
	if len(got) != 0 {
		t.Fatalf("lines for unknown watches: %v", got)
	}
}

// TestWatchManyOverHTTP2: two POST streams of two watches each share one h2c connection;
// each watch gets its own events, and cancelling one stream releases both its watches while
// the other stream goes on. Role: reader; no token is 401 on the same connection.
func TestWatchManyOverHTTP2(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	reader := tokensByRole(t, n)[acl.RoleReader]
	hc, url := h2cClient(t, 0), "http://"+n.Addr+"/v1/watch"
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	body := `{"progress_interval":"50ms","watches":[{"id":"p1","kinds":["instance_mappings"],"project_id":"p1"},{"id":"hosts","kinds":["host_mappings"]}]}`
	if _, resp := openWatchRequest(t, hc, "POST", url, body, ""); resp == nil || resp.StatusCode != http.StatusUnauthorized || resp.ProtoMajor != 2 {
		t.Fatalf("no token over h2c: got %v, want 401 over HTTP/2", resp)
	}
	a, _ := openWatchRequest(t, hc, "POST", url, body, reader)
	b, _ := openWatchRequest(t, hc, "POST", url, `{"progress_interval":"50ms","watches":[{"id":"p2","kinds":["instance_mappings"],"project_id":"p2"},{"id":"all"}]}`, reader)
	for _, w := range []*watcher{a, b} {
		if w == nil || w.resp.ProtoMajor != 2 || w.local != a.local {
			t.Fatalf("stream %+v: want HTTP/2 on the connection of the first", w)
		}
	}
	testkit.WaitFor(t, "four watches to follow the hub", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 4 })
	putMapping(t, n.Addr, inst1, "p1")
	putMapping(t, n.Addr, inst2, "p2")
	call(t, n.Addr, "PUT", "/v1/hosts/h1", `{"cell_uuid":"`+cellA+`"}`)
	a.expectMany(map[string][]evWant{"p1": {{"instance_mappings", "put", inst1}}, "hosts": {{"host_mappings", "put", "h1"}}})
	b.expectMany(map[string][]evWant{"p2": {{"instance_mappings", "put", inst2}},
		"all": {{"instance_mappings", "put", inst1}, {"instance_mappings", "put", inst2}, {"host_mappings", "put", "h1"}}})
	a.cancel()
	testkit.WaitFor(t, "the cancelled stream's two watches to be released", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 2 })
	putMapping(t, n.Addr, inst3, "p2")
	b.expectMany(map[string][]evWant{"p2": {{"instance_mappings", "put", inst3}}, "all": {{"instance_mappings", "put", inst3}}})
}
