package bench

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// ErrSecurity wraps every error of reading the security material of a run.
var ErrSecurity = errors.New("bench: security material")

// Security is what a secured target needs: the CA that signed the servers' certificates, an
// optional client certificate, and the credential (a cellmap token, an etcd user and password).
// The zero value is a plaintext run without credentials.
type Security struct {
	// CACert is the PEM file of the CA that signed the servers' certificates; set, the targets
	// speak TLS (https for cellmap, TLS gRPC for etcd).
	CACert string
	// ClientCert and ClientKey are a client certificate presented when the server asks.
	ClientCert, ClientKey string
	// TokenFile holds a cellmap token (first line).
	TokenFile string
	// User and PasswordFile are an etcd user and the file holding its password (first line).
	User, PasswordFile string
}

// Flags registers the security flags on fs.
func (s *Security) Flags(fs *flag.FlagSet) {
	fs.StringVar(&s.CACert, "ca-cert", "", "PEM CA file of the servers' certificates (turns TLS on)")
	fs.StringVar(&s.ClientCert, "client-cert", "", "PEM client certificate (with --client-key)")
	fs.StringVar(&s.ClientKey, "client-key", "", "PEM key of --client-cert")
	fs.StringVar(&s.TokenFile, "token-file", "", "file holding a cellmap token")
	fs.StringVar(&s.User, "user", "", "etcd user (with --password-file)")
	fs.StringVar(&s.PasswordFile, "password-file", "", "file holding the etcd user's password")
}

// TLS returns the client TLS configuration, or nil for a plaintext run.
func (s *Security) TLS() (*tls.Config, error) {
	if s == nil || s.CACert == "" {
		if s != nil && (s.ClientCert != "" || s.ClientKey != "") {
			return nil, fmt.Errorf("%w: a client certificate needs --ca-cert", ErrSecurity)
		}
		return nil, nil
	}
	pem, err := os.ReadFile(s.CACert)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSecurity, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: %s holds no PEM certificate", ErrSecurity, s.CACert)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if (s.ClientCert == "") != (s.ClientKey == "") {
		return nil, fmt.Errorf("%w: --client-cert and --client-key go together", ErrSecurity)
	}
	if s.ClientCert != "" {
		pair, err := tls.LoadX509KeyPair(s.ClientCert, s.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSecurity, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// Token returns the cellmap token of --token-file ("" without one).
func (s *Security) Token() (string, error) {
	if s == nil || s.TokenFile == "" {
		return "", nil
	}
	return firstLine(s.TokenFile)
}

// Password returns the etcd password of --password-file ("" without one).
func (s *Security) Password() (string, error) {
	if s == nil || s.User == "" {
		return "", nil
	}
	if s.PasswordFile == "" {
		return "", fmt.Errorf("%w: --user needs --password-file", ErrSecurity)
	}
	return firstLine(s.PasswordFile)
}

// firstLine reads the first line of a secret file; an empty one is an error.
func firstLine(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrSecurity, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	if line = strings.TrimSpace(line); line == "" {
		return "", fmt.Errorf("%w: %s is empty", ErrSecurity, path)
	}
	return line, nil
}
