package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/gossip"
	"github.com/cellmap/cellmap/gossip/gossiptest"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/transport"
	"github.com/hashicorp/go-hclog"
)

// TestSecureByDefault: an address beyond loopback without TLS is refused (exit 2, before
// listening); with --insecure the conductor logs a WARN naming what is open.
func TestSecureByDefault(t *testing.T) {
	base := []string{"--cell-uuid", cell, "--data-dir", t.TempDir(), "--join", "127.0.0.1:1"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--http-addr", "0.0.0.0:8490"}, "HTTP API on 0.0.0.0:8490 (plain HTTP)"},
		{[]string{"--gossip-addr", "10.0.0.5:8492"}, "gossip on 10.0.0.5:8492 (unencrypted gossip)"},
		{[]string{"--tls-key", "k.pem"}, "--tls-cert, --tls-key and --tls-ca go together"},
	} {
		var stderr bytes.Buffer
		if code := run(append(append([]string{}, base...), tt.args...), &stderr, env(nil)); code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Fatalf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
	}
	o, err := parseFlags(append(base, "--insecure"), io.Discard, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	if _, err := o.config(hclog.New(&hclog.LoggerOptions{Output: &logs})); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "[WARN]") || !strings.Contains(logs.String(), "HTTP API on 127.0.0.1:8490 (plain HTTP)") {
		t.Fatalf("--insecure logged %q, want a WARN naming the plain HTTP API", logs.String())
	}
}

// TestTLSConductorProcess runs cellconductor with a cell certificate: only node certificates
// of the cluster CA get an answer (a client certificate, none, or one of another CA are
// refused in the handshake), and SIGHUP makes new connections present a new certificate.
func TestTLSConductorProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	seed, err := gossip.New(&gossip.Config{Name: "server/n1", BindAddr: testkit.FreeUDPTCPAddr(t), Profile: "test", Handler: gossiptest.NewRecorder(),
		Meta: api.GossipMeta{Role: api.RoleServer, NodeID: "n1", HTTPAddr: "127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Shutdown()
	p, other := testcluster.NewPKI(t), testcluster.NewPKI(t)
	addr := testkit.FreeAddr(t)
	args := append([]string{"--cell-uuid", cell, "--data-dir", t.TempDir(), "--http-addr", addr, "--gossip-addr", testkit.FreeUDPTCPAddr(t),
		"--join", seed.LocalAddr(), "--gossip-profile", "test", "--hosts", "cmp1:8:8192:100"}, p.Args(t, transport.CellIdentity(cell))...)
	proc := testcluster.Start(t, "conductor", testcluster.Binary(t, "cellconductor"), args...)

	node := p.Reloader(t, transport.NodeIdentity("n1")).ClientConfig("", transport.RequireIdentity(transport.CellIdentity(cell)))
	get := func(cfg *tls.Config) (*big.Int, error) {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}, Timeout: 5 * time.Second}
		resp, err := hc.Get("https://" + addr + "/healthz")
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("status %d", resp.StatusCode)
		}
		return resp.TLS.PeerCertificates[0].SerialNumber, nil
	}
	testkit.WaitFor(t, "the conductor answering a node over TLS", 30*time.Second, func() bool { _, err := get(node); return err == nil })

	alice := p.Reloader(t, transport.ClientIdentity("alice")).ClientConfig("", nil)
	anonymous := p.ClientTLS(t, "")
	anonymous.ServerName = "127.0.0.1"
	foreign := other.Reloader(t, transport.NodeIdentity("n1")).ClientConfig("", nil)
	foreign.InsecureSkipVerify, foreign.VerifyConnection = true, nil // it gets as far as presenting its certificate
	for name, cfg := range map[string]*tls.Config{"client certificate": alice, "no certificate": anonymous, "another CA": foreign} {
		if _, err := get(cfg); err == nil {
			t.Fatalf("%s: answered", name)
		}
	}
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("plain HTTP answered 200")
		}
	}

	before, _ := get(node)
	files := p.Issue(t, transport.CellIdentity(cell))
	r, err := transport.NewTLSReloader(files)
	if err != nil {
		t.Fatal(err)
	}
	want := r.Certificate().SerialNumber
	if want.Cmp(before) == 0 {
		t.Fatalf("the new certificate has the old serial")
	}
	if err := proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the new certificate on new connections", 30*time.Second, func() bool {
		got, err := get(node)
		return err == nil && got.Cmp(want) == 0
	})
	if proc.Exited() {
		t.Fatalf("SIGHUP ended the conductor")
	}
	if !strings.Contains(proc.Output(), "TLS certificate, key and CA reloaded") {
		t.Fatalf("the reload was not logged:\n%s", proc.Output())
	}
}
