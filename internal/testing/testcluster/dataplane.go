package testcluster

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/compute"
	"github.com/cellmap/cellmap/conductor"
	"github.com/cellmap/cellmap/gossip"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/identity"
	"github.com/cellmap/cellmap/imageapi"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/node"
	"github.com/cellmap/cellmap/transport"
)

// DataPlane is an in-process cellmap node with the cells data plane and gossip.
type DataPlane struct {
	*Node
	Proxy      *cellproxy.Proxy
	Registry   *cellproxy.Registry
	Gossip     *gossip.Gossip
	GossipAddr string
	// PKI is the cluster CA when the data plane runs with TLS (nil without).
	PKI *PKI
}

// DataPlaneOptions tune StartDataPlane.
type DataPlaneOptions struct {
	// Proxy changes the data plane's configuration.
	Proxy func(*cellproxy.Config)
	// PKI, when set, secures everything with it: the node (certificate of node n1) serves
	// HTTPS, calls conductors over mutual TLS, and AddCell's conductors hold their cell's
	// certificate.
	PKI *PKI
	// API changes the API's configuration (after the data plane's own settings).
	API func(*httpapi.Config)
}

// StartDataPlane starts a single-node cellmap with cell0 mapped, the data plane, and a gossip
// pool (test profile) that conductors join at GossipAddr.
func StartDataPlane(t testing.TB, o *DataPlaneOptions) *DataPlane {
	t.Helper()
	pcfg := cellproxy.DefaultConfig()
	pcfg.Logger = Logger(t, "proxy")
	pcfg.FailureCooldown = 2 * time.Second
	if o != nil && o.Proxy != nil {
		o.Proxy(pcfg)
	}
	registry := cellproxy.NewRegistry(pcfg.FailureCooldown, nil)
	dp := &DataPlane{Registry: registry}
	nopts := &Options{}
	if o != nil && o.PKI != nil {
		dp.PKI = o.PKI
		nopts.TLS = o.PKI.Reloader(t, transport.NodeIdentity("n1"))
		pcfg.TLS = nopts.TLS
	}
	nopts.DataPlane = func(n *node.Node, acfg *httpapi.Config) httpapi.CellHealth {
		p, err := cellproxy.New(pcfg, n, registry)
		if err != nil {
			t.Fatal(err)
		}
		dp.Proxy = p
		acfg.Servers, acfg.CellOps, acfg.Guard = p, p, p
		acfg.Keyring = lateKeyring{dp}
		ccfg := compute.DefaultConfig()
		ccfg.Store, ccfg.Servers, ccfg.Hosts, ccfg.Logger = n, p, p, Logger(t, "compute")
		osc, err := compute.New(ccfg)
		if err != nil {
			t.Fatal(err)
		}
		icfg := imageapi.DefaultConfig()
		icfg.Store = n
		images, err := imageapi.New(icfg)
		if err != nil {
			t.Fatal(err)
		}
		idcfg := identity.DefaultConfig()
		idcfg.Store, idcfg.Logger = n, Logger(t, "identity")
		ident, err := identity.New(idcfg)
		if err != nil {
			t.Fatal(err)
		}
		acfg.Mounts = append(acfg.Mounts, osc.Mount(), images.Mount(), ident.Mount())
		if o != nil && o.API != nil {
			o.API(acfg)
		}
		return registry
	}
	dp.Node = StartNode(t, nopts)
	t.Cleanup(dp.Proxy.Close) // before the node stops (cleanups run last-in first-out)
	dp.GossipAddr = testkit.FreeUDPTCPAddr(t)
	g, err := gossip.New(&gossip.Config{Name: "server/n1", BindAddr: dp.GossipAddr, Profile: "test", Handler: registry,
		Meta: api.GossipMeta{Role: api.RoleServer, NodeID: "n1", HTTPAddr: dp.Addr}, Logger: Logger(t, "gossip")})
	if err != nil {
		t.Fatal(err)
	}
	dp.Gossip = g
	t.Cleanup(func() { g.Shutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := dp.Client.MapCell0(ctx, "cellmap://replicated-state/cell0"); err != nil {
		t.Fatalf("map cell0: %v", err)
	}
	return dp
}

// Conductor is an in-process cell conductor.
type Conductor struct {
	*conductor.Conductor
	CellUUID string
	Addr     string
	Dir      string
	stopped  bool
	joinAddr string
	hosts    string
	cert     *transport.TLSReloader
	gate     *gate
	srv      *http.Server
}

// StartConductor starts a conductor for cellUUID in dir (a new temp dir when ""), joined to
// the pool at joinAddr, with the given hosts (conductor.ParseHosts syntax).
func StartConductor(t testing.TB, cellUUID, dir, joinAddr, hosts string) *Conductor {
	t.Helper()
	return StartConductorTLS(t, cellUUID, dir, joinAddr, hosts, nil)
}

// StartConductorTLS is StartConductor serving mutual TLS with cert (node certificates only,
// as cellconductor does); nil cert serves plain HTTP.
func StartConductorTLS(t testing.TB, cellUUID, dir, joinAddr, hosts string, cert *transport.TLSReloader) *Conductor {
	t.Helper()
	return startConductorAt(t, cellUUID, dir, "127.0.0.1:0", joinAddr, hosts, cert)
}

// Restart starts a stopped conductor again on its address and data directory, as a restarted
// cellconductor process would (the cell's mapping names that address).
func (c *Conductor) Restart(t testing.TB) *Conductor {
	t.Helper()
	return startConductorAt(t, c.CellUUID, c.Dir, c.Addr, c.joinAddr, c.hosts, c.cert)
}

func startConductorAt(t testing.TB, cellUUID, dir, addr, joinAddr, hosts string, cert *transport.TLSReloader) *Conductor {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	hs, err := conductor.ParseHosts(hosts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := conductor.DefaultConfig()
	cfg.CellUUID, cfg.DataDir, cfg.HTTPAddr, cfg.GossipAddr = cellUUID, dir, ln.Addr().String(), testkit.FreeUDPTCPAddr(t)
	cfg.Join, cfg.GossipProfile, cfg.Name, cfg.Hosts = []string{joinAddr}, "test", "c-"+cellUUID[:8], hs
	cfg.Logger = Logger(t, "conductor")
	if cert != nil {
		cfg.TLS = cert.ServerConfig(tls.RequireAndVerifyClientCert, transport.RequireKind(transport.KindNode))
	}
	c, err := conductor.New(cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	tc := &Conductor{Conductor: c, CellUUID: cellUUID, Addr: cfg.HTTPAddr, Dir: dir, joinAddr: joinAddr, hosts: hosts, cert: cert, gate: &gate{}}
	// Served here rather than by c.Serve so that tests can hold its requests (HoldRequests).
	tc.srv = cfg.Timeouts.Apply(&http.Server{Handler: tc.gate.wrap(c.Handler())})
	if cfg.TLS != nil {
		ln = tls.NewListener(ln, cfg.TLS)
	}
	go tc.srv.Serve(ln)
	t.Cleanup(tc.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("conductor join: %v", err)
	}
	return tc
}

// Stop shuts the conductor down (its gossip says goodbye).
func (c *Conductor) Stop() {
	if c.stopped {
		return
	}
	c.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.Shutdown(ctx)
	c.srv.Close()
}

// AddCell starts a conductor for a new cell, maps the cell and discovers its hosts; it waits
// until the data plane sees the cell up.
func (dp *DataPlane) AddCell(t testing.TB, name, cellUUID, hosts string) *Conductor {
	t.Helper()
	var cert *transport.TLSReloader
	scheme := "http"
	if dp.PKI != nil {
		cert, scheme = dp.PKI.Reloader(t, transport.CellIdentity(cellUUID)), "https"
	}
	c := StartConductorTLS(t, cellUUID, "", dp.GossipAddr, hosts, cert)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := dp.Client.CreateCell(ctx, api.CellCreate{UUID: cellUUID, Name: name,
		TransportURL: scheme + "://" + c.Addr + "/", DatabaseConnection: "bbolt:///" + c.Dir + "/cell.db"}); err != nil {
		t.Fatalf("create cell %s: %v", name, err)
	}
	testkit.WaitFor(t, name+" up", 15*time.Second, func() bool { return dp.Registry.Up(cellUUID) })
	if _, err := dp.Client.DiscoverHosts(ctx, api.DiscoverHosts{CellUUID: cellUUID}); err != nil {
		t.Fatalf("discover %s: %v", name, err)
	}
	return c
}

// NewClient returns a new client of the data plane's node.
func (dp *DataPlane) NewClient(t testing.TB) *client.Client {
	if dp.PKI != nil {
		return tlsClient(t, dp.Addr, dp.PKI.CAFile()).WithToken(testkit.AdminToken)
	}
	return client.New(dp.Addr, nil).WithToken(testkit.AdminToken)
}

// lateKeyring serves the keyring endpoints with the data plane's gossip pool, which starts
// after the API (its metadata names the API's address).
type lateKeyring struct{ dp *DataPlane }

func (k lateKeyring) PoolKeyOp(ctx context.Context, op, key string) (*api.KeyringResult, error) {
	return k.dp.Gossip.PoolKeyOp(ctx, op, key)
}
