package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/transport"
)

// checkFiles fails unless each file exists with mode 0600.
func checkFiles(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v; want mode 0600", f, err, st.Mode().Perm())
		}
	}
}

// loadCert reads a certificate and checks that its key file matches it.
func loadCert(t *testing.T, certFile, keyFile string) *x509.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pair.Leaf
}

// TestTLSCommands: tls ca create and tls cert create write a CA and node, client and cell
// certificates that verify against it with the key usages, host names and identities each
// needs, all mode 0600.
func TestTLSCommands(t *testing.T) {
	dir := t.TempDir()
	runCLI(t, nil, "tls", "ca", "create", "--dir", dir).want(t, 0, "cellmap-ca.pem", "cellmap-ca-key.pem")
	caFile, caKey := filepath.Join(dir, "cellmap-ca.pem"), filepath.Join(dir, "cellmap-ca-key.pem")
	checkFiles(t, caFile, caKey)
	ca := loadCert(t, caFile, caKey)
	if !ca.IsCA || ca.KeyUsage&x509.KeyUsageCertSign == 0 || ca.PublicKeyAlgorithm != x509.ECDSA {
		t.Fatalf("CA: IsCA %v, key usage %v, algorithm %v", ca.IsCA, ca.KeyUsage, ca.PublicKeyAlgorithm)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	const cell = "C3333333-0000-4000-8000-000000000003"
	tests := []struct {
		name     string
		args     []string
		base     string
		identity string
		host     string // a host name the certificate must be valid for ("" none)
		server   bool   // whether it may serve
	}{
		{"node", []string{"--node", "n1", "--ip", "10.0.0.1", "--ip", "127.0.0.1", "--dns", "n1.example"}, "node-n1", "cellmap://node/n1", "n1.example", true},
		{"client", []string{"--client", "alice"}, "client-alice", "cellmap://client/alice", "", false},
		{"cell", []string{"--cell", cell, "--ip", "10.0.1.5"}, "cell-" + strings.ToLower(cell), "cellmap://cell/" + strings.ToLower(cell), "10.0.1.5", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"--format", "json", "tls", "cert", "create", "--dir", dir}, tt.args...)...)
			r.want(t, 0)
			var out struct {
				Result tlsCertResult `json:"result"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Result.Identity != tt.identity {
				t.Fatalf("JSON result %s (%v), want identity %s", r.stdout, err, tt.identity)
			}
			certFile, keyFile := filepath.Join(dir, tt.base+".pem"), filepath.Join(dir, tt.base+"-key.pem")
			if out.Result.CertFile != certFile || out.Result.KeyFile != keyFile {
				t.Fatalf("files %s, %s; want %s, %s", out.Result.CertFile, out.Result.KeyFile, certFile, keyFile)
			}
			checkFiles(t, certFile, keyFile)
			c := loadCert(t, certFile, keyFile)
			if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Fatalf("as a client: %v", err)
			}
			_, err := c.Verify(x509.VerifyOptions{Roots: roots, DNSName: tt.host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			if (err == nil) != tt.server {
				t.Fatalf("as a server for %q: %v, want ok %v", tt.host, err, tt.server)
			}
			if id, err := transport.CertIdentity(c); err != nil || id.String() != tt.identity {
				t.Fatalf("identity %v, %v; want %s", id, err, tt.identity)
			}
			if c.KeyUsage != x509.KeyUsageDigitalSignature || c.IsCA || c.PublicKeyAlgorithm != x509.ECDSA {
				t.Fatalf("key usage %v, IsCA %v, algorithm %v", c.KeyUsage, c.IsCA, c.PublicKeyAlgorithm)
			}
		})
	}
	if ips := loadCert(t, filepath.Join(dir, "node-n1.pem"), filepath.Join(dir, "node-n1-key.pem")).IPAddresses; len(ips) != 2 || !ips[0].Equal(net.ParseIP("10.0.0.1")) {
		t.Fatalf("node IP SANs %v, want 10.0.0.1 and 127.0.0.1", ips)
	}
}

// TestTLSCommandsRefuse: existing files are never overwritten without --force (exit 1,
// nothing changed); a bad command line is exit 2; a missing CA is exit 1.
func TestTLSCommandsRefuse(t *testing.T) {
	dir := t.TempDir()
	runCLI(t, nil, "tls", "ca", "create", "--dir", dir).want(t, 0)
	caFile := filepath.Join(dir, "cellmap-ca.pem")
	before, _ := os.ReadFile(caFile)
	runCLI(t, nil, "tls", "ca", "create", "--dir", dir).want(t, 1, "file exists", "--force")
	if after, _ := os.ReadFile(caFile); !bytes.Equal(before, after) {
		t.Fatalf("a refused ca create changed the CA")
	}
	runCLI(t, nil, "tls", "cert", "create", "--dir", dir, "--client", "bob").want(t, 0)
	certFile := filepath.Join(dir, "client-bob.pem")
	bob, _ := os.ReadFile(certFile)
	runCLI(t, nil, "tls", "cert", "create", "--dir", dir, "--client", "bob").want(t, 1, "file exists")
	if after, _ := os.ReadFile(certFile); !bytes.Equal(bob, after) {
		t.Fatalf("a refused cert create changed the certificate")
	}
	runCLI(t, nil, "tls", "cert", "create", "--dir", dir, "--client", "bob", "--force").want(t, 0)
	if after, _ := os.ReadFile(certFile); bytes.Equal(bob, after) {
		t.Fatalf("--force did not replace the certificate")
	}
	runCLI(t, nil, "tls", "ca", "create", "--dir", dir, "--force").want(t, 0)
	if after, _ := os.ReadFile(caFile); bytes.Equal(before, after) {
		t.Fatalf("--force did not replace the CA")
	}

	usage := []struct {
		name string
		args []string
		want string
	}{
		{"no kind", nil, "exactly one of --node, --client and --cell"},
		{"two kinds", []string{"--node", "n1", "--client", "c", "--ip", "127.0.0.1"}, "exactly one"},
		{"node without host names", []string{"--node", "n1"}, "at least one IP or DNS name"},
		{"client with an IP", []string{"--client", "c", "--ip", "127.0.0.1"}, "no IP or DNS names"},
		{"bad IP", []string{"--node", "n1", "--ip", "10.0.0"}, "not an IP address"},
		{"bad cell", []string{"--cell", "cell1"}, "not a uuid"},
		{"name with a slash", []string{"--client", "a/b"}, "without '/'"},
		{"days", []string{"--client", "c", "--days", "0"}, "--days must be positive"},
	}
	for _, tt := range usage {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"tls", "cert", "create", "--dir", dir}, tt.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
	runCLI(t, nil, "tls", "cert", "create", "--dir", t.TempDir(), "--client", "c").want(t, 1, "cellmap-ca.pem")
}

// TestTLSClientOptions: cellmapctl talks HTTPS with --ca-cert or CELLMAP_CACERT (and a client
// certificate), refuses a server it cannot verify, and rejects inconsistent options.
func TestTLSClientOptions(t *testing.T) {
	p := testcluster.NewPKI(t)
	n := testcluster.StartNode(t, &testcluster.Options{TLS: p.Reloader(t, transport.NodeIdentity("n1"))})
	https := "https://" + n.Addr
	alice := p.Files(t, transport.ClientIdentity("alice"))

	runCLI(t, nil, "--addr", https, "--ca-cert", p.CAFile(), "cell_v2", "list_cells").want(t, 0)
	runCLI(t, map[string]string{"CELLMAP_ADDR": https, "CELLMAP_CACERT": p.CAFile(), "CELLMAP_CLIENT_CERT": alice.CertFile,
		"CELLMAP_CLIENT_KEY": alice.KeyFile}, "cluster", "status").want(t, 0, "n1")
	runCLI(t, nil, "--addr", n.Addr, "--ca-cert", p.CAFile(), "cluster", "status").want(t, 0, "n1") // host:port means https with TLS options

	// A CA that did not sign the node's certificate: the command fails, unexpected error.
	other := testcluster.NewPKI(t)
	if r := runCLI(t, nil, "--addr", https, "--ca-cert", other.CAFile(), "cluster", "status"); r.code != exitUnexpected || !strings.Contains(r.stderr, "certificate") {
		t.Fatalf("unknown authority: exit %d, stderr %q", r.code, r.stderr)
	}
	// Plain HTTP to the HTTPS port.
	if r := runCLI(t, nil, "--addr", "http://"+n.Addr, "cluster", "status"); r.code != exitUnexpected {
		t.Fatalf("plain HTTP to HTTPS: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"http with a CA", []string{"--addr", "http://" + n.Addr, "--ca-cert", p.CAFile()}, "plain http but TLS is configured"},
		{"certificate without key", []string{"--addr", https, "--client-cert", alice.CertFile}, "both its certificate and its key"},
		{"missing CA file", []string{"--addr", https, "--ca-cert", filepath.Join(t.TempDir(), "none.pem")}, "read CA"},
	} {
		r := runCLI(t, nil, append(tt.args, "cluster", "status")...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Fatalf("%s: exit %d, stderr %q; want %d and %q", tt.name, r.code, r.stderr, exitUsage, tt.want)
		}
	}
	if r := runCLI(t, nil, "--help"); !strings.Contains(r.stdout, "--ca-cert FILE (CELLMAP_CACERT)") || !strings.Contains(r.stdout, "(CELLMAP_CLIENT_KEY)") {
		t.Fatalf("help does not document the TLS options:\n%s", r.stdout)
	}
}
