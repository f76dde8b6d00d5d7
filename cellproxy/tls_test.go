package cellproxy_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/gossip"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/transport"
)

// fakeConductor is an HTTP(S) server that poses as a conductor of cell in the gossip pool,
// presents the certificate cert (plain HTTP when nil), and counts the requests that reach its handler (it answers
// them as an empty cell would).
type fakeConductor struct {
	requests atomic.Int64
	addr     string
	gossip   *gossip.Gossip
}

func startFakeConductor(t *testing.T, dp *testcluster.DataPlane, cell, name string, cert *transport.TLSReloader) *fakeConductor {
	t.Helper()
	f := &fakeConductor{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/capacity":
			json.NewEncoder(w).Encode(api.Capacity{FreeVCPUs: 1000, FreeRAMMB: 1 << 20, FreeDiskGB: 1000, Fits: 1000, MappedHosts: 1})
		default:
			json.NewEncoder(w).Encode(api.InstanceList{})
		}
	})}
	if cert != nil {
		ln = transport.TLSListener(ln, cert.ServerConfig(tls.RequireAndVerifyClientCert, transport.RequireKind(transport.KindNode)))
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	f.gossip, err = gossip.New(&gossip.Config{Name: name, BindAddr: testkit.FreeUDPTCPAddr(t), Profile: "test",
		Join: []string{dp.GossipAddr}, Meta: api.GossipMeta{Role: api.RoleConductor, CellUUID: cell, HTTPAddr: f.addr},
		Logger: testcluster.Logger(t, "fake")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.gossip.Shutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.gossip.Join(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestConductorOfAnotherCellGetsNoTraffic: with TLS, the API tier checks that a conductor's
// certificate names the cell it calls. A conductor of cell2 presenting cell3's certificate
// (same CA) receives no request: creates go to cell1, listings report cell2 down, and its
// handler counts zero. The same fake presenting cell2's own certificate does get requests.
func TestConductorOfAnotherCellGetsNoTraffic(t *testing.T) {
	p := testcluster.NewPKI(t)
	dp := testcluster.StartDataPlane(t, &testcluster.DataPlaneOptions{PKI: p})
	c := dp.Client
	dp.AddCell(t, "cell1", cell1, hosts)
	addFlavor(t, c, "1", 1, 512)

	impostor := startFakeConductor(t, dp, cell2, "conductor/"+cell2+"/impostor", p.Reloader(t, transport.CellIdentity(cell3)))
	if _, err := c.CreateCell(ctxT(t), api.CellCreate{UUID: cell2, Name: "cell2", TransportURL: "https://" + impostor.addr + "/",
		DatabaseConnection: "bbolt:///cell2"}); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "cell2 up in gossip", 15*time.Second, func() bool { return dp.Registry.Up(cell2) })

	for i := 0; i < 4; i++ {
		s := createAndWait(t, c, fmt.Sprintf("vm%d", i), "p1", "1")
		if s.Status != api.StatusActive || s.CellUUID != cell1 {
			t.Fatalf("server %d: %s in %s, want ACTIVE in cell1", i, s.Status, s.CellUUID)
		}
	}
	list, err := c.Servers(ctxT(t), api.ServerQuery{AllTenants: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Servers) != 4 {
		t.Fatalf("listed %d servers, want 4", len(list.Servers))
	}
	if n := impostor.requests.Load(); n != 0 {
		t.Fatalf("the conductor with cell3's certificate received %d requests, want 0", n)
	}

	// Control: a conductor of cell2 with cell2's certificate is called once the mapping names it.
	impostor.gossip.Shutdown()
	genuine := startFakeConductor(t, dp, cell2, "conductor/"+cell2+"/genuine", p.Reloader(t, transport.CellIdentity(cell2)))
	tu := "https://" + genuine.addr + "/"
	if _, err := c.UpdateCell(ctxT(t), cell2, api.CellUpdate{TransportURL: &tu}); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "a request reaching cell2's genuine conductor", 30*time.Second, func() bool {
		if _, err := c.Servers(ctxT(t), api.ServerQuery{AllTenants: true}); err != nil {
			t.Logf("list: %v", err)
		}
		return genuine.requests.Load() > 0
	})
	if n := impostor.requests.Load(); n != 0 {
		t.Fatalf("the impostor received %d requests, want 0", n)
	}
}
