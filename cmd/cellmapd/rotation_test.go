package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/transport"
)

// serialAt opens a new TLS connection to addr and returns the serial of the certificate the
// server presents.
func serialAt(addr string, cfg *tls.Config) (*big.Int, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber, nil
}

// rotationLoad writes and reads through every node of c until stopped or until each worker
// has done max operations; half the workers open a new connection for every request.
type rotationLoad struct {
	ops, failures atomic.Int64
	firstErr      atomic.Value
	stop          chan struct{}
	stopOnce      sync.Once
	wg            sync.WaitGroup
}

func startRotationLoad(t *testing.T, c *testcluster.Cluster, p *testcluster.PKI, workers, max int) *rotationLoad {
	l := &rotationLoad{stop: make(chan struct{})}
	for w := 0; w < workers; w++ {
		n := c.Nodes[w%len(c.Nodes)]
		cl := n.Client
		if w%2 == 1 {
			var err error
			cl, err = client.NewWithConfig(&client.Config{Addr: n.HTTP, TLS: p.ClientTLS(t, ""), Token: testkit.AdminToken,
				HTTP: &http.Client{Transport: &http.Transport{TLSClientConfig: p.ClientTLS(t, ""), DisableKeepAlives: true}}})
			if err != nil {
				t.Fatal(err)
			}
		}
		l.wg.Add(1)
		go func(w int, cl *client.Client) {
			defer l.wg.Done()
			for i := 0; i < max; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				id := fmt.Sprintf("cccccccc-%04d-4000-8000-%012d", w, i)
				_, _, err := cl.PutInstanceMapping(ctx, id, mapping("rot"), client.Condition{IfAbsent: true})
				if err == nil {
					_, _, err = cl.InstanceMapping(ctx, id)
				}
				cancel()
				l.ops.Add(1)
				if err != nil {
					l.failures.Add(1)
					l.firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}(w, cl)
	}
	return l
}

func (l *rotationLoad) halt() {
	l.stopOnce.Do(func() { close(l.stop) })
	l.wg.Wait()
}

// TestCertificateRotationSIGHUP rotates the certificate of every node of a TLS cluster with
// SIGHUP while writes and reads run through all of them: no request fails, and new
// connections to the HTTP and raft ports present the new certificates.
func TestCertificateRotationSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	p := testcluster.NewPKI(t)
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{PKI: p})
	apiTLS := p.ClientTLS(t, "")
	apiTLS.ServerName = "127.0.0.1"
	raftTLS := p.Reloader(t, transport.NodeIdentity("probe")).ClientConfig("", transport.RequireKind(transport.KindNode))

	load := startRotationLoad(t, c, p, 6, 5000)
	defer load.halt()
	testkit.WaitFor(t, "the load running", 60*time.Second, func() bool { return load.ops.Load() >= 60 })

	for _, n := range c.Nodes {
		before, err := serialAt(n.HTTP, apiTLS)
		if err != nil {
			t.Fatal(err)
		}
		files := p.Issue(t, transport.NodeIdentity(n.ID))
		want, err := certSerial(files)
		if err != nil {
			t.Fatal(err)
		}
		if want.Cmp(before) == 0 {
			t.Fatalf("the new certificate has the old serial")
		}
		if err := n.Proc.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		for _, port := range []struct {
			addr string
			cfg  *tls.Config
		}{{n.HTTP, apiTLS}, {n.Raft, raftTLS}} {
			testkit.WaitFor(t, n.ID+" presenting the new certificate on "+port.addr, 30*time.Second, func() bool {
				got, err := serialAt(port.addr, port.cfg)
				return err == nil && got.Cmp(want) == 0
			})
		}
	}
	after := load.ops.Load()
	testkit.WaitFor(t, "more load after the rotation", 60*time.Second, func() bool { return load.ops.Load() >= after+60 })
	load.halt()
	if f := load.failures.Load(); f != 0 {
		t.Fatalf("%d of %d requests failed during the rotation; first: %v", f, load.ops.Load(), load.firstErr.Load())
	}
	t.Logf("%d requests, none failed", load.ops.Load())
	// The cluster still works with fresh connections everywhere.
	for _, n := range c.Nodes {
		fresh := p.Client(t, n.HTTP).WithToken(testkit.AdminToken)
		if _, err := fresh.ClusterStatus(ctx(t, 10*time.Second)); err != nil {
			t.Fatalf("%s after rotation: %v", n.ID, err)
		}
	}
}

// certSerial reads the serial of the certificate in files.
func certSerial(files transport.TLSFiles) (*big.Int, error) {
	r, err := transport.NewTLSReloader(files)
	if err != nil {
		return nil, err
	}
	return r.Certificate().SerialNumber, nil
}
