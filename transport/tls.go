package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// MinTLSVersion is the oldest TLS version any cellmap port speaks.
const MinTLSVersion = tls.VersionTLS12

// ErrNoTLS reports a TLS configuration that names only some of its files.
var ErrNoTLS = errors.New("transport: TLS needs a certificate, its key and the cluster CA")

// TLSFiles names the PEM files of a TLS configuration: this process's certificate and key,
// and the cluster CA bundle that peers' certificates are verified against.
type TLSFiles struct {
	CertFile string
	KeyFile  string
	CAFile   string
}

// Enabled reports whether any file is named (a configuration naming only some is invalid).
func (f TLSFiles) Enabled() bool { return f.CertFile != "" || f.KeyFile != "" || f.CAFile != "" }

// Validate checks that either every file or none is named.
func (f TLSFiles) Validate() error {
	if f.Enabled() && (f.CertFile == "" || f.KeyFile == "" || f.CAFile == "") {
		return fmt.Errorf("%w (got cert %q, key %q, CA %q)", ErrNoTLS, f.CertFile, f.KeyFile, f.CAFile)
	}
	return nil
}

// tlsState is one loaded set of files.
type tlsState struct {
	cert *tls.Certificate
	pool *x509.CertPool
}

// TLSReloader holds a certificate, its key and the CA pool loaded from TLSFiles, and hands
// out *tls.Config values that read the current ones at every handshake: after Reload (on
// SIGHUP) new connections use the new files; established connections are left alone.
type TLSReloader struct {
	files TLSFiles
	now   func() time.Time
	state atomic.Pointer[tlsState]
}

// NewTLSReloader loads files, which must all be named.
func NewTLSReloader(files TLSFiles) (*TLSReloader, error) {
	if !files.Enabled() {
		return nil, ErrNoTLS
	}
	if err := files.Validate(); err != nil {
		return nil, err
	}
	r := &TLSReloader{files: files, now: time.Now}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Files returns the files the reloader reads.
func (r *TLSReloader) Files() TLSFiles { return r.files }

// Reload reads the files again. A set that does not load (unreadable, key not matching the
// certificate, certificate not issued by the CA or outside its validity) is refused and the
// previous one stays in use.
func (r *TLSReloader) Reload() error {
	st, err := loadTLS(r.files, r.now())
	if err != nil {
		return err
	}
	r.state.Store(st)
	return nil
}

func loadTLS(f TLSFiles, now time.Time) (*tlsState, error) {
	cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("transport: load certificate %s and key %s: %w", f.CertFile, f.KeyFile, err)
	}
	pool, err := loadCAPool(f.CAFile)
	if err != nil {
		return nil, err
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("transport: parse certificate %s: %w", f.CertFile, err)
		}
		cert.Leaf = leaf
	}
	inter := x509.NewCertPool()
	for _, der := range cert.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(c)
		}
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, fmt.Errorf("transport: certificate %s does not verify against the CA %s: %w", f.CertFile, f.CAFile, err)
	}
	if _, err := CertIdentity(leaf); err != nil {
		return nil, fmt.Errorf("transport: certificate %s: %w", f.CertFile, err)
	}
	return &tlsState{cert: &cert, pool: pool}, nil
}

// loadCAPool reads a PEM bundle of CA certificates.
func loadCAPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("transport: read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("transport: CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}

// Certificate returns the certificate in use.
func (r *TLSReloader) Certificate() *x509.Certificate { return r.state.Load().cert.Leaf }

// Identity returns the identity of the certificate in use.
func (r *TLSReloader) Identity() Identity {
	id, _ := CertIdentity(r.Certificate()) // checked at load
	return id
}

// ServerConfig returns the configuration of a listener. auth says whether clients must
// present a certificate (tls.RequireAndVerifyClientCert) or may (tls.VerifyClientCertIfGiven);
// a presented certificate is verified against the current CA and, when check is not nil, its
// identity must pass check. Session tickets are off so that every connection is verified
// against the CA of the moment.
func (r *TLSReloader) ServerConfig(auth tls.ClientAuthType, check PeerCheck) *tls.Config {
	return &tls.Config{
		MinVersion: MinTLSVersion,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			st := r.state.Load()
			return &tls.Config{
				MinVersion:             MinTLSVersion,
				Certificates:           []tls.Certificate{*st.cert},
				ClientCAs:              st.pool,
				ClientAuth:             auth,
				SessionTicketsDisabled: true,
				VerifyConnection: func(cs tls.ConnectionState) error {
					return checkPeer(&cs, check, auth == tls.RequireAndVerifyClientCert)
				},
			}, nil
		},
	}
}

// ClientConfig returns the configuration of a dialer. The server's certificate is verified
// against the current CA; when serverName is set it must also be valid for that host name or
// IP, and when check is set its identity must pass check. The current certificate is
// presented when the server asks for one.
func (r *TLSReloader) ClientConfig(serverName string, check PeerCheck) *tls.Config {
	return &tls.Config{
		MinVersion: MinTLSVersion,
		ServerName: serverName,
		// The chain is verified in VerifyConnection against the CA pool of the moment
		// (RootCAs cannot change under a config in use); nothing is skipped.
		InsecureSkipVerify: true,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return r.state.Load().cert, nil
		},
		VerifyConnection: func(cs tls.ConnectionState) error {
			if err := verifyServer(&cs, r.state.Load().pool, serverName, r.now()); err != nil {
				return err
			}
			return checkPeer(&cs, check, true)
		},
	}
}

// verifyServer verifies a server's chain against pool, as crypto/tls would with RootCAs, and
// fills cs.VerifiedChains.
func verifyServer(cs *tls.ConnectionState, pool *x509.CertPool, serverName string, now time.Time) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("transport: server presented no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	chains, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, DNSName: serverName,
		CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return fmt.Errorf("transport: server certificate: %w", err)
	}
	cs.VerifiedChains = chains
	return nil
}

// checkPeer applies check to the verified peer identity; required says a certificate must be
// there.
func checkPeer(cs *tls.ConnectionState, check PeerCheck, required bool) error {
	if len(cs.VerifiedChains) == 0 {
		if required || len(cs.PeerCertificates) > 0 {
			return errors.New("transport: peer certificate not verified")
		}
		return nil
	}
	id, _, err := PeerIdentity(cs)
	if err != nil {
		return err
	}
	if check != nil {
		return check(id)
	}
	return nil
}

// ClientTLSFromFiles builds the static configuration of an API client: caFile verifies the
// server (host name included); certFile and keyFile, when given, are presented as a client
// certificate. Empty caFile uses the system roots.
func ClientTLSFromFiles(caFile, certFile, keyFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: MinTLSVersion}
	if caFile != "" {
		pool, err := loadCAPool(caFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("transport: a client certificate needs both its certificate and its key file")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("transport: load client certificate %s and key %s: %w", certFile, keyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
