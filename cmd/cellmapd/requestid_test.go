package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/requestid"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// logLinesWith returns the messages of the JSON log lines in out whose request_id is id; it
// fails the test on a line that is not JSON (every line is, with --log-format json).
func logLinesWith(t *testing.T, name, out, id string) []string {
	t.Helper()
	var msgs []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%s: a log line is not JSON: %q", name, sc.Text())
		}
		if line[requestid.LogKey] == id {
			msgs = append(msgs, line["@module"].(string)+": "+line["@message"].(string))
		}
	}
	return msgs
}

// TestRequestIDFollowsTheRequest: real processes logging JSON at debug level; a server create
// (service role; the test uses the admin token) sent to a follower with a known X-Request-Id
// is answered with that id, and log lines with that request_id appear on the follower (the
// request), on the leader (the forwarded write) and on the conductor (the call that builds the
// server). An id that is not short and printable is replaced by a new one.
func TestRequestIDFollowsTheRequest(t *testing.T) {
	t.Parallel()
	logArgs := []string{"--log-format", "json", "--log-level", "debug"}
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{Args: logArgs})
	leader := c.Leader(t)
	var follower *testcluster.ProcNode
	for _, n := range c.Nodes {
		if n != leader {
			follower = n
			break
		}
	}
	lc := leader.Client
	if _, _, err := lc.MapCell0(ctx(t, 10*time.Second), "cellmap://replicated-state/cell0"); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.CreateFlavor(ctx(t, 10*time.Second), api.Flavor{ID: "1", Name: "tiny", VCPUs: 1, RAMMB: 256, DiskGB: 1}); err != nil {
		t.Fatal(err)
	}
	cp := &conductorProc{cell: "c1111111-0000-4000-8000-000000000001", dir: t.TempDir(), http: testkit.FreeAddr(t), gossip: testkit.FreeUDPTCPAddr(t)}
	cp.p = testcluster.Start(t, "conductor", testcluster.Binary(t, "cellconductor"), append([]string{
		"--cell-uuid", cp.cell, "--data-dir", cp.dir, "--http-addr", cp.http, "--gossip-addr", cp.gossip,
		"--join", c.Nodes[0].Gossip, "--gossip-profile", "test", "--hosts", "h1:16:32768:500"}, logArgs...)...)
	if _, err := lc.CreateCell(ctx(t, 10*time.Second), api.CellCreate{UUID: cp.cell, Name: "cell1",
		TransportURL: "http://" + cp.http + "/", DatabaseConnection: "bbolt:///" + cp.dir}); err != nil {
		t.Fatal(err)
	}
	fc := follower.Client
	testkit.WaitFor(t, "the follower sees the cell up", 30*time.Second, func() bool { return cellStatus(t, fc, cp.cell) == "up" })
	if _, err := lc.DiscoverHosts(ctx(t, 10*time.Second), api.DiscoverHosts{}); err != nil {
		t.Fatal(err)
	}

	const rid = "trace-follows-0001"
	body := api.ServerCreate{Server: api.ServerCreateSpec{Name: "vm", FlavorRef: "1", ImageRef: "img", ProjectID: "p", UserID: "u"}}
	var created api.ServerResponse
	meta, err := fc.Do(ctx(t, 10*time.Second), http.MethodPost, "/v1/servers", http.Header{requestid.Header: {rid}}, body, &created)
	if err != nil {
		t.Fatal(err)
	}
	if got := meta.RequestID; got != rid {
		t.Fatalf("answered X-Request-Id %q, want %q", got, rid)
	}
	testkit.WaitFor(t, "the server active", 30*time.Second, func() bool {
		s, err := fc.Server(ctx(t, 5*time.Second), created.Server.ID)
		return err == nil && s.Status == api.StatusActive
	})
	for _, w := range []struct {
		name string
		p    *testcluster.Process
		want string
	}{
		{"follower " + follower.ID, follower.Proc, "cellmapd.http: request"},
		{"leader " + leader.ID, leader.Proc, "cellmapd: applied a forwarded write"},
		{"conductor", cp.p, "cellconductor.http: request"},
	} {
		testkit.WaitFor(t, w.name+" logs "+w.want+" with the request id", 10*time.Second, func() bool {
			for _, m := range logLinesWith(t, w.name, w.p.Output(), rid) {
				if m == w.want {
					return true
				}
			}
			return false
		})
	}

	// Not short and printable: a new id is made.
	for _, bad := range []string{"has a space", strings.Repeat("x", requestid.MaxLen+1)} {
		meta, err = fc.Do(ctx(t, 10*time.Second), http.MethodGet, "/v1/cells", http.Header{requestid.Header: {bad}}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := meta.RequestID; got == bad || !requestid.Valid(got) {
			t.Fatalf("answered X-Request-Id %q for %q", got, bad)
		}
	}
}
