package transport_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/pki"
	"github.com/cellmap/cellmap/transport"
)

// testPKI is a CA in a temporary directory issuing certificates on demand.
type testPKI struct {
	dir string
	ca  *pki.KeyPair
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	ca, _, err := pki.EnsureCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &testPKI{dir: dir, ca: ca}
}

// issue (re)writes id's certificate, valid for 127.0.0.1 and localhost, and returns its files.
func (p *testPKI) issue(t *testing.T, id transport.Identity) transport.TLSFiles {
	t.Helper()
	req := pki.CertRequest{Identity: id}
	if id.Kind != transport.KindClient {
		req.IPs, req.DNSNames = []net.IP{net.IPv4(127, 0, 0, 1)}, []string{"localhost"}
	}
	kp, err := pki.Issue(p.ca, req)
	if err != nil {
		t.Fatal(err)
	}
	cert, key := pki.CertFiles(p.dir, id)
	if err := pki.WriteKeyPair(kp, cert, key, true); err != nil {
		t.Fatal(err)
	}
	return pki.TLSFiles(p.dir, id)
}

func (p *testPKI) reloader(t *testing.T, id transport.Identity) *transport.TLSReloader {
	t.Helper()
	r, err := transport.NewTLSReloader(p.issue(t, id))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tlsServer accepts TLS connections with cfg, completes each handshake and echoes one line of
// what it reads; it returns its address.
func tlsServer(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	tln := transport.TLSListener(ln, cfg)
	go func() {
		for {
			c, err := tln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func dial(addr string, cfg *tls.Config) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	// A client learns that the server refused its certificate only on its first read.
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("x")); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func TestTLSFilesValidate(t *testing.T) {
	tests := []struct {
		files transport.TLSFiles
		ok    bool
	}{
		{transport.TLSFiles{}, true},
		{transport.TLSFiles{CertFile: "c", KeyFile: "k", CAFile: "ca"}, true},
		{transport.TLSFiles{CertFile: "c", KeyFile: "k"}, false},
		{transport.TLSFiles{CAFile: "ca"}, false},
	}
	for _, tt := range tests {
		if err := tt.files.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v: got %v, want ok %v", tt.files, err, tt.ok)
		}
	}
	if _, err := transport.NewTLSReloader(transport.TLSFiles{}); !errors.Is(err, transport.ErrNoTLS) {
		t.Errorf("no files: got %v, want ErrNoTLS", err)
	}
}

// TestTLSReloaderRefusesBadSets: a set that does not belong together is refused at start and
// on reload, where the previous set stays in use.
func TestTLSReloaderRefusesBadSets(t *testing.T) {
	p, other := newPKI(t), newPKI(t)
	good := p.issue(t, transport.NodeIdentity("n1"))
	foreign := other.issue(t, transport.NodeIdentity("n1"))
	alice := p.issue(t, transport.ClientIdentity("alice"))
	tests := []struct {
		name  string
		files transport.TLSFiles
	}{
		{"certificate of another CA", transport.TLSFiles{CertFile: foreign.CertFile, KeyFile: foreign.KeyFile, CAFile: good.CAFile}},
		{"key of another certificate", transport.TLSFiles{CertFile: good.CertFile, KeyFile: alice.KeyFile, CAFile: good.CAFile}},
		{"missing certificate", transport.TLSFiles{CertFile: good.CertFile + ".none", KeyFile: good.KeyFile, CAFile: good.CAFile}},
		{"CA that is no PEM", transport.TLSFiles{CertFile: good.CertFile, KeyFile: good.KeyFile, CAFile: good.KeyFile}},
	}
	for _, tt := range tests {
		if _, err := transport.NewTLSReloader(tt.files); err == nil {
			t.Errorf("%s: loaded", tt.name)
		}
	}

	r, err := transport.NewTLSReloader(good)
	if err != nil {
		t.Fatal(err)
	}
	serial := r.Certificate().SerialNumber
	// Replace the certificate with one of another CA: the reload is refused.
	data, _ := os.ReadFile(foreign.CertFile)
	key, _ := os.ReadFile(foreign.KeyFile)
	os.WriteFile(good.CertFile, data, 0o600)
	os.WriteFile(good.KeyFile, key, 0o600)
	if err := r.Reload(); err == nil {
		t.Fatalf("reload of a certificate of another CA succeeded")
	}
	if r.Certificate().SerialNumber.Cmp(serial) != 0 || r.Identity() != transport.NodeIdentity("n1") {
		t.Fatalf("a refused reload changed the certificate in use")
	}
}

// TestTLSReloadNewConnections: after Reload, new connections get the new certificate while
// an established one keeps working.
func TestTLSReloadNewConnections(t *testing.T) {
	p := newPKI(t)
	srv := p.reloader(t, transport.NodeIdentity("n1"))
	cli := p.reloader(t, transport.NodeIdentity("n2"))
	addr := tlsServer(t, srv.ServerConfig(tls.RequireAndVerifyClientCert, transport.RequireKind(transport.KindNode)))
	ccfg := cli.ClientConfig("", transport.RequireKind(transport.KindNode))

	old, err := dial(addr, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	oldSerial := old.ConnectionState().PeerCertificates[0].SerialNumber

	p.issue(t, transport.NodeIdentity("n1")) // a new certificate in the same files
	if err := srv.Reload(); err != nil {
		t.Fatal(err)
	}
	c, err := dial(addr, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := c.ConnectionState().PeerCertificates[0].SerialNumber
	if got.Cmp(oldSerial) == 0 || got.Cmp(srv.Certificate().SerialNumber) != 0 {
		t.Fatalf("new connection: serial %v, want the reloaded %v (old %v)", got, srv.Certificate().SerialNumber, oldSerial)
	}
	if _, err := old.Write([]byte("y")); err != nil {
		t.Fatalf("established connection broke on reload: %v", err)
	}
	if _, err := io.ReadFull(old, make([]byte, 1)); err != nil {
		t.Fatalf("established connection broke on reload: %v", err)
	}
}

// TestServerConfigClientAuth: who may connect to a port that requires a node certificate and
// to one where a client certificate is optional.
func TestServerConfigClientAuth(t *testing.T) {
	p, other := newPKI(t), newPKI(t)
	srv := p.reloader(t, transport.NodeIdentity("n1"))
	nodePort := tlsServer(t, srv.ServerConfig(tls.RequireAndVerifyClientCert, transport.RequireKind(transport.KindNode)))
	apiPort := tlsServer(t, srv.ServerConfig(tls.VerifyClientCertIfGiven, nil))
	clientCfg := func(r *transport.TLSReloader) *tls.Config {
		if r == nil { // no certificate: only the CA
			c, err := transport.ClientTLSFromFiles(p.issue(t, transport.ClientIdentity("anon")).CAFile, "", "")
			if err != nil {
				t.Fatal(err)
			}
			c.ServerName = "127.0.0.1"
			return c
		}
		return r.ClientConfig("", nil)
	}
	node2 := p.reloader(t, transport.NodeIdentity("n2"))
	alice := p.reloader(t, transport.ClientIdentity("alice"))
	// A certificate of another CA, presented to a server of ours (it does not trust ours
	// either, so it skips verifying the server to get as far as presenting its own).
	foreign := other.reloader(t, transport.NodeIdentity("n2"))
	foreignCfg := &tls.Config{InsecureSkipVerify: true, GetClientCertificate: foreign.ClientConfig("", nil).GetClientCertificate}

	tests := []struct {
		name string
		addr string
		cfg  *tls.Config
		ok   bool
	}{
		{"node port, node certificate", nodePort, clientCfg(node2), true},
		{"node port, client certificate", nodePort, clientCfg(alice), false},
		{"node port, no certificate", nodePort, clientCfg(nil), false},
		{"node port, certificate of another CA", nodePort, foreignCfg, false},
		{"API port, no certificate", apiPort, clientCfg(nil), true},
		{"API port, client certificate", apiPort, clientCfg(alice), true},
		{"API port, certificate of another CA", apiPort, foreignCfg, false},
		{"API port, TLS 1.1", apiPort, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := dial(tt.addr, tt.cfg)
			if c != nil {
				c.Close()
			}
			if (err == nil) != tt.ok {
				t.Fatalf("got %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// TestClientConfigChecks: a dialer refuses a server whose certificate is of another CA, is
// not valid for the name dialed, or does not carry the identity expected.
func TestClientConfigChecks(t *testing.T) {
	p, other := newPKI(t), newPKI(t)
	cellA, cellB := "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
	serverA := tlsServer(t, p.reloader(t, transport.CellIdentity(cellA)).ServerConfig(tls.RequireAndVerifyClientCert, nil))
	foreignA := tlsServer(t, other.reloader(t, transport.CellIdentity(cellA)).ServerConfig(tls.RequireAndVerifyClientCert, nil))
	n1 := p.reloader(t, transport.NodeIdentity("n1"))
	tests := []struct {
		name, addr, serverName string
		check                  transport.PeerCheck
		ok                     bool
	}{
		{"the cell expected", serverA, "", transport.RequireIdentity(transport.CellIdentity(cellA)), true},
		{"another cell", serverA, "", transport.RequireIdentity(transport.CellIdentity(cellB)), false},
		{"not a node", serverA, "", transport.RequireKind(transport.KindNode), false},
		{"host name matches", serverA, "localhost", nil, true},
		{"host name does not match", serverA, "conductor.example", nil, false},
		{"another CA", foreignA, "", transport.RequireIdentity(transport.CellIdentity(cellA)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := dial(tt.addr, n1.ClientConfig(tt.serverName, tt.check))
			if c != nil {
				c.Close()
			}
			if (err == nil) != tt.ok {
				t.Fatalf("got %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// TestPeerIdentityMiddleware: a handler behind WithPeerIdentity finds the identity of a
// verified client certificate in its context, and none without one.
func TestPeerIdentityMiddleware(t *testing.T) {
	p := newPKI(t)
	srv := p.reloader(t, transport.NodeIdentity("n1"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: transport.WithPeerIdentity(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, ok := transport.IdentityFromContext(r.Context()); ok {
			io.WriteString(w, id.String())
		}
	}))}
	go hs.Serve(transport.TLSListener(ln, srv.ServerConfig(tls.VerifyClientCertIfGiven, nil)))
	defer hs.Close()
	files := p.issue(t, transport.ClientIdentity("alice"))
	for _, tt := range []struct {
		name, cert, key, want string
	}{
		{"with a client certificate", files.CertFile, files.KeyFile, "cellmap://client/alice"},
		{"without", "", "", ""},
	} {
		cfg, err := transport.ClientTLSFromFiles(files.CAFile, tt.cert, tt.key)
		if err != nil {
			t.Fatal(err)
		}
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
		resp, err := hc.Get("https://" + ln.Addr().String() + "/")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		hc.CloseIdleConnections()
		if string(body) != tt.want {
			t.Fatalf("%s: handler saw %q, want %q", tt.name, body, tt.want)
		}
	}
}

// TestHTTPClientHandshakeFailure: an HTTPS client of NewHTTPClient reports a refused server
// certificate as ErrHandshake (nothing was sent).
func TestHTTPClientHandshakeFailure(t *testing.T) {
	p := newPKI(t)
	cellA := "aaaaaaaa-0000-4000-8000-000000000001"
	addr := tlsServer(t, p.reloader(t, transport.CellIdentity(cellA)).ServerConfig(tls.RequireAndVerifyClientCert, nil))
	n1 := p.reloader(t, transport.NodeIdentity("n1"))
	cfg := transport.DefaultHTTPConfig()
	cfg.TLS = n1.ClientConfig("", transport.RequireIdentity(transport.CellIdentity("bbbbbbbb-0000-4000-8000-000000000002")))
	hc := transport.NewHTTPClient(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+addr+"/v1/instances", nil)
	if _, err := hc.Do(req); !errors.Is(err, transport.ErrHandshake) || !errors.Is(err, transport.ErrIdentity) {
		t.Fatalf("got %v, want ErrHandshake and ErrIdentity", err)
	}
}
