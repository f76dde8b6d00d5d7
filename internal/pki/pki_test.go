package pki

import (
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cellmap/cellmap/transport"
)

func newCA(t *testing.T) *KeyPair {
	t.Helper()
	ca, err := NewCA(CARequest{})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestNewCA(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ca, err := NewCA(CARequest{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	c := ca.Cert
	if !c.IsCA || !c.BasicConstraintsValid || c.KeyUsage&x509.KeyUsageCertSign == 0 || !c.MaxPathLenZero {
		t.Fatalf("not a CA: IsCA %v, key usage %v", c.IsCA, c.KeyUsage)
	}
	if c.PublicKeyAlgorithm != x509.ECDSA || c.Subject.CommonName != "cellmap CA" {
		t.Fatalf("got %v %q, want an ECDSA cellmap CA", c.PublicKeyAlgorithm, c.Subject.CommonName)
	}
	if got := c.NotAfter.Sub(now); got != CALifetime {
		t.Fatalf("lifetime %v, want %v", got, CALifetime)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Fatalf("not self-signed: %v", err)
	}
}

// TestIssue issues each kind of certificate and verifies it as the peers would: chain, key
// usage, host names and the identity URI.
func TestIssue(t *testing.T) {
	ca := newCA(t)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	cell := "4f1c2a3b-0000-4000-8000-000000000001"
	tests := []struct {
		name      string
		req       CertRequest
		usages    []x509.ExtKeyUsage
		notUsage  x509.ExtKeyUsage
		dnsName   string
		wantIPs   int
		wantIdent string
	}{
		{"node", CertRequest{Identity: transport.NodeIdentity("n1"), IPs: []net.IP{net.ParseIP("10.0.0.1"), net.ParseIP("127.0.0.1")}, DNSNames: []string{"n1.example"}},
			[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, -1, "10.0.0.1", 2, "cellmap://node/n1"},
		{"client", CertRequest{Identity: transport.ClientIdentity("alice")},
			[]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, x509.ExtKeyUsageServerAuth, "", 0, "cellmap://client/alice"},
		{"cell", CertRequest{Identity: transport.CellIdentity(cell), DNSNames: []string{"conductor.cell1"}},
			[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, -1, "conductor.cell1", 0, "cellmap://cell/" + cell},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kp, err := Issue(ca, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			c := kp.Cert
			for _, u := range tt.usages {
				if _, err := c.Verify(x509.VerifyOptions{Roots: roots, DNSName: tt.dnsName, KeyUsages: []x509.ExtKeyUsage{u}}); err != nil {
					t.Fatalf("verify for %v: %v", u, err)
				}
			}
			if tt.notUsage >= 0 {
				if _, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{tt.notUsage}}); err == nil {
					t.Fatalf("verifies for %v, must not", tt.notUsage)
				}
			}
			if c.KeyUsage != x509.KeyUsageDigitalSignature || c.IsCA || c.PublicKeyAlgorithm != x509.ECDSA {
				t.Fatalf("key usage %v, IsCA %v, algorithm %v", c.KeyUsage, c.IsCA, c.PublicKeyAlgorithm)
			}
			if len(c.IPAddresses) != tt.wantIPs {
				t.Fatalf("IP SANs %v, want %d", c.IPAddresses, tt.wantIPs)
			}
			id, err := transport.CertIdentity(c)
			if err != nil || id.String() != tt.wantIdent || len(c.URIs) != 1 {
				t.Fatalf("identity %v (%v), URIs %v; want %s", id, err, c.URIs, tt.wantIdent)
			}
			if got := c.NotAfter.Sub(c.NotBefore); got != CertLifetime+backdate {
				t.Fatalf("validity %v, want %v", got, CertLifetime+backdate)
			}
		})
	}
}

func TestIssueRefuses(t *testing.T) {
	ca := newCA(t)
	leaf, err := Issue(ca, CertRequest{Identity: transport.ClientIdentity("x")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ca   *KeyPair
		req  CertRequest
		want error
	}{
		{"node without host names", ca, CertRequest{Identity: transport.NodeIdentity("n1")}, ErrInvalid},
		{"client with an IP", ca, CertRequest{Identity: transport.ClientIdentity("a"), IPs: []net.IP{net.ParseIP("10.0.0.1")}}, ErrInvalid},
		{"IP as DNS name", ca, CertRequest{Identity: transport.NodeIdentity("n1"), DNSNames: []string{"10.0.0.1"}}, ErrInvalid},
		{"unknown kind", ca, CertRequest{Identity: transport.Identity{Kind: "admin", Name: "a"}}, ErrInvalid},
		{"name with a slash", ca, CertRequest{Identity: transport.ClientIdentity("a/b")}, ErrInvalid},
		{"empty name", ca, CertRequest{Identity: transport.ClientIdentity("")}, ErrInvalid},
		{"leaf as CA", leaf, CertRequest{Identity: transport.ClientIdentity("a")}, ErrNotCA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Issue(tt.ca, tt.req); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestIssueCappedByCA(t *testing.T) {
	ca, err := NewCA(CARequest{Lifetime: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	kp, err := Issue(ca, CertRequest{Identity: transport.ClientIdentity("a")})
	if err != nil {
		t.Fatal(err)
	}
	if !kp.Cert.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Fatalf("certificate ends %v, after its CA (%v)", kp.Cert.NotAfter, ca.Cert.NotAfter)
	}
}

func TestWriteKeyPair(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t)
	certFile, keyFile := CAFiles(dir)
	if err := WriteKeyPair(ca, certFile, keyFile, false); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{certFile, keyFile} {
		st, err := os.Stat(f)
		if err != nil || st.Mode().Perm() != FileMode {
			t.Fatalf("%s: mode %v (%v), want %v", f, st.Mode().Perm(), err, FileMode)
		}
	}
	loaded, err := LoadKeyPair(certFile, keyFile)
	if err != nil || !loaded.Cert.Equal(ca.Cert) || !loaded.Key.Equal(ca.Key) {
		t.Fatalf("load: %v", err)
	}

	other := newCA(t)
	if err := WriteKeyPair(other, certFile, keyFile, false); !errors.Is(err, ErrExists) {
		t.Fatalf("overwrite without force: got %v, want ErrExists", err)
	}
	if loaded, _ := LoadKeyPair(certFile, keyFile); !loaded.Cert.Equal(ca.Cert) {
		t.Fatalf("a refused write changed the files")
	}
	// Only the key exists: nothing is written either.
	lone := filepath.Join(dir, "lone.pem")
	if err := WriteKeyPair(other, lone, keyFile, false); !errors.Is(err, ErrExists) {
		t.Fatalf("key exists: got %v, want ErrExists", err)
	}
	if _, err := os.Stat(lone); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused write created %s", lone)
	}
	if err := WriteKeyPair(other, certFile, keyFile, true); err != nil {
		t.Fatal(err)
	}
	if loaded, _ := LoadKeyPair(certFile, keyFile); !loaded.Cert.Equal(other.Cert) {
		t.Fatalf("force did not overwrite")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestEnsure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	ca, created, err := EnsureCA(dir)
	if err != nil || !created {
		t.Fatalf("first EnsureCA: created %v, %v", created, err)
	}
	again, created, err := EnsureCA(dir)
	if err != nil || created || !again.Cert.Equal(ca.Cert) {
		t.Fatalf("second EnsureCA: created %v, %v", created, err)
	}
	req := CertRequest{Identity: transport.NodeIdentity("dev"), IPs: []net.IP{net.ParseIP("127.0.0.1")}}
	if created, err := EnsureCert(dir, ca, req); err != nil || !created {
		t.Fatalf("first EnsureCert: created %v, %v", created, err)
	}
	certFile, _ := CertFiles(dir, req.Identity)
	before, _ := os.ReadFile(certFile)
	if created, err := EnsureCert(dir, ca, req); err != nil || created {
		t.Fatalf("second EnsureCert: created %v, %v", created, err)
	}
	if after, _ := os.ReadFile(certFile); string(after) != string(before) {
		t.Fatalf("EnsureCert replaced an existing certificate")
	}
	if _, err := transport.NewTLSReloader(TLSFiles(dir, req.Identity)); err != nil {
		t.Fatalf("the files do not load as a TLS configuration: %v", err)
	}
}
