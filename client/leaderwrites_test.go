package client_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// lwProxy is a reverse proxy on 127.0.0.1 in front of one node that counts the writes it
// passes, may rename the leader the node names (X-Cellmap-Leader), and may lose the answers
// of writes: it forwards the write, reads the node's whole answer, then drops the client's
// connection without a byte, so the write happened and the client cannot know it.
type lwProxy struct {
	srv    *httptest.Server
	target *url.URL
	writes atomic.Int64
	// renames maps a leader address (host:port) to the one the client is told instead.
	renames map[string]string
	// loseWriteAnswers, set, makes every write's outcome unknown to the client.
	loseWriteAnswers atomic.Bool
	tr               *http.Transport
}

func newLWProxy(t *testing.T, target string) *lwProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &lwProxy{target: u, renames: map[string]string{}, tr: &http.Transport{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = p.tr
	rp.ModifyResponse = func(resp *http.Response) error {
		if to, ok := p.renames[resp.Header.Get(api.HeaderLeader)]; ok {
			resp.Header.Set(api.HeaderLeader, to)
		}
		return nil
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			rp.ServeHTTP(w, r)
			return
		}
		p.writes.Add(1)
		if !p.loseWriteAnswers.Load() {
			rp.ServeHTTP(w, r)
			return
		}
		out := r.Clone(r.Context())
		out.RequestURI, out.URL.Scheme, out.URL.Host = "", u.Scheme, u.Host
		resp, err := p.tr.RoundTrip(out)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	}))
	t.Cleanup(func() {
		p.srv.Close()
		p.tr.CloseIdleConnections()
	})
	return p
}

// addr is the proxy's host:port.
func (p *lwProxy) addr() string { return strings.TrimPrefix(p.srv.URL, "http://") }

// lwSetup starts a 3-node cluster and returns it, its leader, a follower, a cell and a
// service-role token (the role that writes instance mappings).
func lwSetup(t *testing.T, o *testcluster.ClusterOptions) (cl *testcluster.Cluster, leader, follower *testcluster.ProcNode, cell, token string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts processes")
	}
	cl = testcluster.StartCluster(t, o)
	leader = cl.Leader(t)
	for _, n := range cl.Nodes {
		if n != leader {
			follower = n
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := leader.Client.CreateCell(ctx, api.CellCreate{Name: "lw", TransportURL: "rabbit://lw/", DatabaseConnection: "mysql://lw"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := leader.Client.CreateToken(ctx, api.TokenCreate{Description: "leader writes", Role: "service"})
	if err != nil {
		t.Fatal(err)
	}
	return cl, leader, follower, c.UUID, tok.Secret
}

func lwKey(i int) string { return fmt.Sprintf("00000000-0000-4000-9000-%012d", i) }

// lwCreate creates mapping i through c.
func lwCreate(ctx context.Context, c *client.Client, cell string, i int) error {
	_, _, err := c.PutInstanceMapping(ctx, lwKey(i), api.InstanceMappingPut{ProjectID: "p", CellUUID: &cell}, client.Condition{IfAbsent: true})
	return err
}

// lwViaFollower returns a LeaderWrites client given the follower's endpoint through a counting
// proxy, once it has learnt the leader; it is closed when the test ends.
func lwViaFollower(t *testing.T, cl *testcluster.Cluster, leader, follower *testcluster.ProcNode, cell, token string) (*client.Client, *lwProxy) {
	t.Helper()
	p := newLWProxy(t, cl.URL(follower))
	c, err := client.NewWithConfig(&client.Config{Addr: p.srv.URL, Token: token, LeaderWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	lwLearn(t, c, cell, cl.URL(leader))
	return c, p
}

// lwLearn reads through c until it names the leader want (base URL).
func lwLearn(t *testing.T, c *client.Client, cell, want string) {
	t.Helper()
	testkit.WaitFor(t, "the client to learn the leader "+want, 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, _ = c.Cell(ctx, cell)
		return c.Leader() == want
	})
}

// TestLeaderWritesSkipTheFollower: a client with LeaderWrites given a follower's endpoint
// (through a proxy that counts) learns the leader from its first answer and sends its writes
// there: none of 20 creates passes the follower, and each is stored. Reads stay on the given
// endpoint. Role: the X-Cellmap-Leader header is for any caller the route admits (a reader on
// a read, a service token on a write); an answer without a valid token (401) or refused for
// the role (403) does not carry it.
func TestLeaderWritesSkipTheFollower(t *testing.T) {
	cl, leader, follower, cell, token := lwSetup(t, nil)
	c, p := lwViaFollower(t, cl, leader, follower, cell, token)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 20 {
		if err := lwCreate(ctx, c, cell, i); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	if n := p.writes.Load(); n != 0 {
		t.Fatalf("%d of 20 writes went through the follower; want 0 (straight to the leader)", n)
	}
	for i := range 20 {
		if _, _, err := leader.Client.InstanceMapping(ctx, lwKey(i)); err != nil {
			t.Fatalf("mapping %d: %v", i, err)
		}
	}

	reader, err := leader.Client.CreateToken(ctx, api.TokenCreate{Description: "leader header reader", Role: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	header := func(method, path, token string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, cl.URL(follower)+path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get(api.HeaderLeader)
	}
	for _, tc := range []struct {
		name, method, path, token string
		status                    int
		want                      string
	}{
		{"reader reads", http.MethodGet, "/v1/cells", reader.Secret, http.StatusOK, leader.HTTP},
		{"no token", http.MethodGet, "/v1/cells", "", http.StatusUnauthorized, ""},
		{"bad token", http.MethodGet, "/v1/cells", "not-a-token", http.StatusUnauthorized, ""},
		{"reader writes", http.MethodPut, "/v1/instance-mappings/" + lwKey(99), reader.Secret, http.StatusForbidden, ""},
		{"public health", http.MethodGet, "/healthz", "", http.StatusOK, ""},
	} {
		status, got := header(tc.method, tc.path, tc.token)
		if status != tc.status || got != tc.want {
			t.Errorf("%s: %d with %s %q; want %d with %q", tc.name, status, api.HeaderLeader, got, tc.status, tc.want)
		}
	}
}

// TestLeaderWritesFollowANewLeader: the leader a LeaderWrites client writes to is killed. The
// next write cannot connect to it and goes to the given endpoint (a follower, through a
// counting proxy), which forwards it; the client then learns the new leader from the answers
// and writes there directly again. Role: a service token.
func TestLeaderWritesFollowANewLeader(t *testing.T) {
	cl, leader, follower, cell, token := lwSetup(t, nil)
	c, p := lwViaFollower(t, cl, leader, follower, cell, token)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := lwCreate(ctx, c, cell, 0); err != nil {
		t.Fatal(err)
	}
	if n := p.writes.Load(); n != 0 {
		t.Fatalf("a write went through the follower before the leader died")
	}

	if err := leader.Proc.Kill(); err != nil {
		t.Fatal(err)
	}
	next := 1
	testkit.WaitFor(t, "a write to succeed after the leader was killed", 30*time.Second, func() bool {
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		defer wcancel()
		err := lwCreate(wctx, c, cell, next)
		next++
		if err != nil {
			t.Logf("write after the kill: %v", err)
		}
		return err == nil
	})
	if p.writes.Load() == 0 {
		t.Fatalf("no write went to the given endpoint after the leader died")
	}

	newLeader := cl.Leader(t)
	lwLearn(t, c, cell, cl.URL(newLeader))
	before := p.writes.Load()
	for i := range 10 {
		if err := lwCreate(ctx, c, cell, next+i); err != nil {
			t.Fatalf("create after the new leader: %v", err)
		}
	}
	if n := p.writes.Load() - before; n != 0 && newLeader != follower {
		t.Fatalf("%d of 10 writes went through the follower after the client learnt the new leader %s", n, newLeader.ID)
	}
}

// TestLeaderWritesNeverResendUnknownOutcome: the client is told (by a proxy in front of the
// follower it was given) that the leader is behind a second proxy, which forwards each write
// to the leader and then drops the connection before answering. The write happened; the
// client must report its outcome unknown and must not send it to its own endpoint (that would
// apply it a second time). Role: a service token.
func TestLeaderWritesNeverResendUnknownOutcome(t *testing.T) {
	cl, leader, follower, cell, token := lwSetup(t, nil)
	pl := newLWProxy(t, cl.URL(leader))
	pl.loseWriteAnswers.Store(true)
	pf := newLWProxy(t, cl.URL(follower))
	pf.renames[leader.HTTP] = pl.addr()
	c, err := client.NewWithConfig(&client.Config{Addr: pf.srv.URL, Token: token, LeaderWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	lwLearn(t, c, cell, pl.srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = lwCreate(ctx, c, cell, 1)
	if !client.IsOutcomeUnknown(err) {
		t.Fatalf("write whose answer was lost: %v; want an unknown outcome", err)
	}
	if pl.writes.Load() != 1 || pf.writes.Load() != 0 {
		t.Fatalf("writes: %d to the leader, %d to the given endpoint; want 1 and 0 (never re-sent)", pl.writes.Load(), pf.writes.Load())
	}
	if _, _, err := leader.Client.InstanceMapping(ctx, lwKey(1)); err != nil {
		t.Fatalf("the write the leader got: %v", err)
	}
}

// TestLeaderWritesOverTLS: over HTTPS the client reaches the leader with its own TLS
// configuration (the cluster CA verifies the leader's certificate for the address the header
// names), and the follower it was given forwards none of its writes (its count of writes
// proposed or forwarded, cellmap_apply_seconds_count, stays put). Role: a service token.
func TestLeaderWritesOverTLS(t *testing.T) {
	pki := testcluster.NewPKI(t)
	cl, leader, follower, cell, token := lwSetup(t, &testcluster.ClusterOptions{PKI: pki})
	tlsCfg := pki.ClientTLS(t, "")
	c, err := client.NewWithConfig(&client.Config{Addr: follower.HTTP, TLS: tlsCfg, Token: token, LeaderWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	lwLearn(t, c, cell, cl.URL(leader))
	if !strings.HasPrefix(c.Leader(), "https://") {
		t.Fatalf("leader %q: want https", c.Leader())
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	defer hc.CloseIdleConnections()
	before := testkit.MetricSum(t, hc, cl.URL(follower), "cellmap_apply_seconds_count")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 10 {
		if err := lwCreate(ctx, c, cell, i); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	if n := testkit.MetricSum(t, hc, cl.URL(follower), "cellmap_apply_seconds_count") - before; n != 0 {
		t.Fatalf("the follower forwarded %v of 10 writes; want 0", n)
	}
}
