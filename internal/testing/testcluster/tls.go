package testcluster

import (
	"crypto/tls"
	"net"
	"os"
	"sync"
	"testing"

	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/pki"
	"github.com/cellmap/cellmap/transport"
)

// PKI is a throwaway cluster CA in a temporary directory. It issues node, client and cell
// certificates valid for 127.0.0.1, ::1 and localhost, and builds what secured test clusters
// need: the TLS of in-process nodes and conductors, the flags of real processes, and HTTPS
// clients.
type PKI struct {
	Dir string
	CA  *pki.KeyPair

	mu sync.Mutex
}

// NewPKI creates a CA.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	dir := t.TempDir()
	ca, _, err := pki.EnsureCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &PKI{Dir: dir, CA: ca}
}

// CAFile is the CA certificate's file.
func (p *PKI) CAFile() string {
	f, _ := pki.CAFiles(p.Dir)
	return f
}

// Issue (re)writes the certificate of id, a new one with a new serial each call, and returns
// the files (a process configured with them picks the new one up on SIGHUP).
func (p *PKI) Issue(t testing.TB, id transport.Identity) transport.TLSFiles {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issueLocked(t, id)
}

func (p *PKI) issueLocked(t testing.TB, id transport.Identity) transport.TLSFiles {
	req := pki.CertRequest{Identity: id}
	if id.Kind != transport.KindClient {
		req.IPs, req.DNSNames = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, []string{"localhost"}
	}
	kp, err := pki.Issue(p.CA, req)
	if err != nil {
		t.Fatal(err)
	}
	cert, key := pki.CertFiles(p.Dir, id)
	if err := pki.WriteKeyPair(kp, cert, key, true); err != nil {
		t.Fatal(err)
	}
	return pki.TLSFiles(p.Dir, id)
}

// Files returns the files of id's certificate, issuing it on first use.
func (p *PKI) Files(t testing.TB, id transport.Identity) transport.TLSFiles {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	files := pki.TLSFiles(p.Dir, id)
	if _, err := os.Stat(files.CertFile); err == nil {
		return files
	}
	return p.issueLocked(t, id)
}

// Reloader returns a TLS reloader of id's certificate (issued on first use).
func (p *PKI) Reloader(t testing.TB, id transport.Identity) *transport.TLSReloader {
	t.Helper()
	r, err := transport.NewTLSReloader(p.Files(t, id))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Args returns the --tls-cert, --tls-key and --tls-ca flags of a process holding id's
// certificate (issued on first use).
func (p *PKI) Args(t testing.TB, id transport.Identity) []string {
	t.Helper()
	f := p.Files(t, id)
	return []string{"--tls-cert", f.CertFile, "--tls-key", f.KeyFile, "--tls-ca", f.CAFile}
}

// ClientTLS returns the TLS of an API client: the CA verifies the node; with name set, the
// certificate of client name is presented.
func (p *PKI) ClientTLS(t testing.TB, name string) *tls.Config {
	t.Helper()
	var cert, key string
	if name != "" {
		f := p.Files(t, transport.ClientIdentity(name))
		cert, key = f.CertFile, f.KeyFile
	}
	cfg, err := transport.ClientTLSFromFiles(p.CAFile(), cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Client returns an HTTPS client of the node at addr (host:port) that trusts the CA and
// presents no client certificate; it is closed at cleanup.
func (p *PKI) Client(t testing.TB, addr string) *client.Client {
	t.Helper()
	c, err := client.NewWithConfig(&client.Config{Addr: addr, TLS: p.ClientTLS(t, "")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}
