// Package testcluster starts cellmap for tests: in-process nodes with their HTTP API, and real
// cellmapd/cellconductor processes built from this module. Everything listens on 127.0.0.1 and
// is stopped at test cleanup, also on failure.
package testcluster

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/node"
	"github.com/cellmap/cellmap/transport"
	"github.com/gorilla/mux"
	"github.com/hashicorp/go-hclog"
)

// Node is an in-process cellmap node with its HTTP API.
type Node struct {
	Addr   string // HTTP host:port
	URL    string // http:// or https:// Addr
	Node   *node.Node
	API    *httpapi.Service
	Client *client.Client
	Dir    string
}

// Options tune StartNode.
type Options struct {
	// APIConfig changes the API configuration before the service starts.
	APIConfig func(*httpapi.Config)
	// NodeConfig changes the node configuration before the node starts.
	NodeConfig func(*node.Config)
	// Health is passed to the API (nil: no data plane).
	Health httpapi.CellHealth
	// Routes adds routes to the API.
	Routes []func(*mux.Router)
	// DataPlane, when set, is called once the node exists and before the API is built: it
	// may set the API's data plane fields and returns the cell health the API reports.
	DataPlane func(n *node.Node, acfg *httpapi.Config) httpapi.CellHealth
	// TLS, when set, is the node's certificate (PKI.Reloader): the API serves HTTPS (client
	// certificates optional), the raft port mutual TLS, and Client trusts the CA.
	TLS *transport.TLSReloader
	// NoACLBootstrap leaves the ACL unbootstrapped (by default the node is bootstrapped with
	// testkit.AdminToken and Client sends it).
	NoACLBootstrap bool
}

// Logger writes through t.Log so output shows only for failing tests. Lines written once the
// test's cleanup has begun are dropped: background goroutines (memberlist probes) may still
// log, and t.Log after a test ends panics.
func Logger(t testing.TB, name string) hclog.Logger {
	if _, fuzz := t.(*testing.F); fuzz {
		return hclog.NewNullLogger() // a fuzz target may not log through its *testing.F
	}
	w := &tWriter{t: t}
	t.Cleanup(func() { w.done.Store(true) })
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.Warn, Output: w})
}

type tWriter struct {
	t    testing.TB
	done atomic.Bool
}

func (w *tWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(string(p))
	}
	return len(p), nil
}

// StartNode starts a bootstrapped single-node cluster and waits until it serves linearizable
// reads.
func StartNode(t testing.TB, o *Options) *Node {
	t.Helper()
	if o == nil {
		o = &Options{}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := node.DefaultConfig()
	cfg.NodeID, cfg.DataDir, cfg.RaftAddr, cfg.HTTPAddr = "n1", dir, testkit.FreeAddr(t), ln.Addr().String()
	cfg.Bootstrap, cfg.Raft, cfg.InitialMmapSize = true, node.TestRaftConfig(), 1<<20
	cfg.Raft.HeartbeatTimeout, cfg.Raft.ElectionTimeout, cfg.Raft.LeaderLeaseTimeout = 100*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond
	cfg.Logger = Logger(t, "node")
	cfg.Token = testkit.AdminToken
	if o.TLS != nil {
		cfg.TLS = o.TLS
	}
	if o.NodeConfig != nil {
		o.NodeConfig(cfg)
	}
	n, err := node.New(cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	acfg := httpapi.DefaultConfig()
	acfg.Logger, acfg.Operator, acfg.Autopilot = Logger(t, "http"), n, n
	if o.APIConfig != nil {
		o.APIConfig(acfg)
	}
	health := o.Health
	if o.DataPlane != nil {
		health = o.DataPlane(n, acfg)
	}
	svc, err := httpapi.New(acfg, n, health, o.Routes...)
	if err != nil {
		ln.Close()
		n.Shutdown(context.Background())
		t.Fatal(err)
	}
	tn := &Node{Addr: ln.Addr().String(), URL: "http://" + ln.Addr().String(), Node: n, API: svc, Dir: dir}
	if o.TLS != nil {
		go svc.Serve(transport.TLSListener(ln, transport.WithHTTP2(o.TLS.ServerConfig(tls.VerifyClientCertIfGiven, nil))))
		tn.URL = "https://" + tn.Addr
		tn.Client = tlsClient(t, tn.Addr, o.TLS.Files().CAFile)
	} else {
		go svc.Serve(ln)
		tn.Client = client.New(tn.Addr, nil)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		svc.Shutdown(ctx)
		n.Shutdown(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.LinearizableBarrier(ctx); err != nil {
		t.Fatalf("node never became ready: %v", err)
	}
	if !o.NoACLBootstrap {
		BootstrapACL(t, n)
		tn.Client = tn.Client.WithToken(testkit.AdminToken)
	}
	return tn
}

// BootstrapACL bootstraps a node's ACL with testkit.AdminToken.
func BootstrapACL(t testing.TB, n *node.Node) {
	t.Helper()
	tok, _, err := httpapi.NewToken(acl.RoleAdmin, "test admin", "", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tok.SecretHash = acl.Hash(testkit.AdminToken)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := n.Apply(ctx, &fsm.ACLBootstrap{Token: tok})
	if err != nil || (res.Err != nil && !errors.Is(res.Err, fsm.ErrACLBootstrapped)) {
		t.Fatalf("ACL bootstrap: %v %v", err, res)
	}
}

// tlsClient returns an HTTPS client of addr trusting caFile.
func tlsClient(t testing.TB, addr, caFile string) *client.Client {
	t.Helper()
	cfg, err := transport.ClientTLSFromFiles(caFile, "", "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewWithConfig(&client.Config{Addr: addr, TLS: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
