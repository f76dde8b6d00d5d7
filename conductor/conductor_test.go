package conductor

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/gossip"
	"github.com/cellmap/cellmap/gossip/gossiptest"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

func TestConductorJoinsPoolAndLeaves(t *testing.T) {
	rec := gossiptest.NewRecorder()
	seed, err := gossip.New(&gossip.Config{Name: "server/n1", BindAddr: testkit.FreeUDPTCPAddr(t), Profile: "test", Handler: rec,
		Meta: api.GossipMeta{Role: api.RoleServer, NodeID: "n1", HTTPAddr: "127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Shutdown()
	c, base := newTestConductor(t, t.TempDir(), []string{seed.LocalAddr()}, host("h1", 4, 4096, 10))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	name := "conductor/" + testCell + "/t1"
	testkit.WaitFor(t, "the conductor seen alive by the seed", 15*time.Second, func() bool { _, ok := rec.Seen(name, true); return ok })
	meta, _ := rec.Seen(name, true)
	want := api.GossipMeta{Role: api.RoleConductor, CellUUID: testCell, HTTPAddr: strings.TrimPrefix(base, "http://")}
	if meta != want {
		t.Fatalf("meta: got %+v, want %+v", meta, want)
	}
	resp, err := http.Get("http://" + meta.HTTPAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz at the advertised address: got %d, want 200", resp.StatusCode)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the conductor seen gone after its goodbye", 15*time.Second, func() bool { _, ok := rec.Seen(name, false); return ok })
	if err := c.Shutdown(ctx); err != nil {
		t.Fatalf("second shutdown: got %v, want nil", err)
	}
}

func TestStartGivesUpWhenContextEnds(t *testing.T) {
	nobody := testkit.FreeUDPTCPAddr(t)
	c, _ := newTestConductor(t, t.TempDir(), []string{nobody})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := c.Start(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want an error wrapping context.DeadlineExceeded", err)
	}
}

func TestRestartKeepsInstancesAndHosts(t *testing.T) {
	dir := t.TempDir()
	hosts := []api.ComputeHostCreate{host("h1", 4, 4096, 10)}
	c, _ := newTestConductor(t, dir, nil, hosts...)
	ctx := context.Background()
	inst := mustCreate(t, c.db, buildReq(1, flavor(1, 1024, 1)))
	if _, err := c.db.SetHostMapped(ctx, "h1", true); err != nil {
		t.Fatal(err)
	}
	before := mustHost(t, c.db, "h1")
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	c2, _ := newTestConductor(t, dir, nil, hosts...)
	if got := mustHost(t, c2.db, "h1"); got != before {
		t.Fatalf("h1 after restart: got %+v, want %+v", got, before)
	}
	got, err := c2.db.Instance(ctx, inst.UUID, api.DeletedNo)
	if err != nil || got.Host != "h1" || !got.CreatedAt.Equal(inst.CreatedAt) {
		t.Fatalf("instance after restart: got %+v, %v, want %+v", got, err, inst)
	}
}

func TestRequestTimeout(t *testing.T) {
	c := &Conductor{cfg: Config{RequestTimeout: time.Minute}}
	var deadline time.Time
	h := c.withTimeout(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { deadline, _ = r.Context().Deadline() }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if deadline.IsZero() || time.Until(deadline) > time.Minute {
		t.Fatalf("got deadline %v, want one within the request timeout", deadline)
	}
}

func TestErrorStatus(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{invalidf("x"), 400, api.CodeInvalid},
		{ErrMarkerNotFound, 400, api.CodeMarkerNotFound},
		{ErrNotFound, 404, api.CodeNotFound},
		{ErrAlreadyExists, 409, api.CodeAlreadyExists},
		{ErrNoValidHost, 409, api.CodeNoValidHost},
		{&http.MaxBytesError{Limit: 1}, 413, api.CodeTooLarge},
		{context.DeadlineExceeded, 503, api.CodeUnavailable},
		{errors.New("disk on fire"), 500, api.CodeInternal},
	}
	for _, tc := range tests {
		if status, code := errorStatus(tc.err); status != tc.status || code != tc.code {
			t.Fatalf("%v: got %d %s, want %d %s", tc.err, status, code, tc.status, tc.code)
		}
	}
}
