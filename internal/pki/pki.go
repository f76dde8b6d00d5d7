// Package pki issues the certificates of a cellmap cluster, so that nobody needs openssl: a
// cluster CA, and ECDSA P-256 certificates for nodes, clients and cell conductors, each naming
// its holder in a cellmap:// URI SAN (see transport.Identity). cellmapctl tls, cellmapd
// --dev-tls and tests use it.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"

	"github.com/cellmap/cellmap/transport"
)

// Lifetimes of what this package issues.
const (
	CALifetime   = 10 * 365 * 24 * time.Hour
	CertLifetime = 365 * 24 * time.Hour
	// backdate covers clock skew between the issuing machine and the peers.
	backdate = 5 * time.Minute
)

// Errors.
var (
	// ErrInvalid: the request cannot be issued as asked.
	ErrInvalid = errors.New("pki: invalid certificate request")
	// ErrNotCA: the certificate given as CA cannot sign certificates.
	ErrNotCA = errors.New("pki: not a CA certificate")
)

// KeyPair is a certificate and its private key.
type KeyPair struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// CertPEM is the certificate in PEM.
func (k *KeyPair) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Cert.Raw})
}

// KeyPEM is the private key in PEM (PKCS #8).
func (k *KeyPair) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// CARequest describes a cluster CA.
type CARequest struct {
	// CommonName names the CA (default "cellmap CA").
	CommonName string
	// Lifetime is its validity (default CALifetime).
	Lifetime time.Duration
	// Now is the issue time (default time.Now).
	Now time.Time
}

// NewCA creates a self-signed cluster CA.
func NewCA(req CARequest) (*KeyPair, error) {
	if req.CommonName == "" {
		req.CommonName = "cellmap CA"
	}
	if req.Lifetime == 0 {
		req.Lifetime = CALifetime
	}
	if req.Lifetime < 0 {
		return nil, fmt.Errorf("%w: negative lifetime", ErrInvalid)
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: req.CommonName, Organization: []string{"cellmap"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(req.Lifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	return sign(tmpl, tmpl, key, key)
}

// CertRequest describes a certificate to issue.
type CertRequest struct {
	// Identity is who holds it: a node id, a client name or a cell uuid.
	Identity transport.Identity
	// IPs and DNSNames are the host names the certificate is valid for as a server (nodes
	// and conductors; clients take none).
	IPs      []net.IP
	DNSNames []string
	// Lifetime is its validity (default CertLifetime), capped by the CA's.
	Lifetime time.Duration
	// Now is the issue time (default time.Now).
	Now time.Time
}

// Validate checks the request.
func (r *CertRequest) Validate() error {
	if err := r.Identity.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if r.Identity.Kind == transport.KindClient && (len(r.IPs) > 0 || len(r.DNSNames) > 0) {
		return fmt.Errorf("%w: a client certificate takes no IP or DNS names", ErrInvalid)
	}
	if r.Identity.Kind == transport.KindNode && len(r.IPs) == 0 && len(r.DNSNames) == 0 {
		return fmt.Errorf("%w: a node certificate needs at least one IP or DNS name (what clients dial)", ErrInvalid)
	}
	for _, d := range r.DNSNames {
		if d == "" || net.ParseIP(d) != nil {
			return fmt.Errorf("%w: DNS name %q (IP addresses go in the IP list)", ErrInvalid, d)
		}
	}
	if r.Lifetime < 0 {
		return fmt.Errorf("%w: negative lifetime", ErrInvalid)
	}
	return nil
}

// Issue signs a certificate for req with the CA: ECDSA P-256, digital signature key usage;
// nodes and conductors get ServerAuth and ClientAuth, clients ClientAuth only.
func Issue(ca *KeyPair, req CertRequest) (*KeyPair, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if !ca.Cert.IsCA || ca.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("%w: %q", ErrNotCA, ca.Cert.Subject.CommonName)
	}
	if req.Lifetime == 0 {
		req.Lifetime = CertLifetime
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	notAfter := now.Add(req.Lifetime)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	if !notAfter.After(now) {
		return nil, fmt.Errorf("%w: the CA expired on %s", ErrInvalid, ca.Cert.NotAfter.Format(time.RFC3339))
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	usage := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	if req.Identity.Kind == transport.KindClient {
		usage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: req.Identity.Kind + " " + req.Identity.Name, Organization: []string{"cellmap"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           usage,
		BasicConstraintsValid: true,
		IPAddresses:           req.IPs,
		DNSNames:              req.DNSNames,
		URIs:                  []*url.URL{req.Identity.URL()},
	}
	return sign(tmpl, ca.Cert, key, ca.Key)
}

func sign(tmpl, parent *x509.Certificate, key, signer *ecdsa.PrivateKey) (*KeyPair, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("pki: sign: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse what was signed: %w", err)
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

// newSerial returns a random positive 128-bit serial number.
func newSerial() (*big.Int, error) {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("pki: serial: %w", err)
	}
	return s.Add(s, big.NewInt(1)), nil
}
