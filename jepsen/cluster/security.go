package cluster

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/cellmap/cellmap/internal/pki"
	"github.com/cellmap/cellmap/transport"
)

// security is what a run's cluster is secured with, as production is: one CA signing every
// node's and conductor's certificate (for the addresses of their namespaces), an admin token
// and a gossip key. It is made in memory by New and written under the run directory by write
// (at Form), so describing a cluster touches no disk.
type security struct {
	dir       string
	ca        *pki.KeyPair
	nodes     map[string]*pki.KeyPair // by node id
	gossipKey []byte
	token     string
	tokenFile string
	client    *tls.Config

	mu      sync.Mutex
	written bool
}

func newSecurity(dir, token string, nodes []*Node) (*security, error) {
	s := &security{dir: filepath.Join(dir, "tls"), nodes: map[string]*pki.KeyPair{}, token: token, tokenFile: filepath.Join(dir, "admin-token")}
	var err error
	if s.ca, err = pki.NewCA(pki.CARequest{}); err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if s.nodes[n.ID], err = pki.Issue(s.ca, pki.CertRequest{Identity: transport.NodeIdentity(n.ID), IPs: []net.IP{net.ParseIP(n.IP)}}); err != nil {
			return nil, err
		}
	}
	s.gossipKey = make([]byte, 32)
	if _, err := rand.Read(s.gossipKey); err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.ca.CertPEM())
	s.client = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return s, nil
}

func (s *security) keyFile() string { return filepath.Join(s.dir, "gossip.key") }

// write puts the CA, the nodes' certificates, the gossip key and the admin token on disk
// (mode 0600), once.
func (s *security) write() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written {
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	caCert, caKey := pki.CAFiles(s.dir)
	if err := pki.WriteKeyPair(s.ca, caCert, caKey, true); err != nil {
		return err
	}
	for id, kp := range s.nodes {
		cert, key := pki.CertFiles(s.dir, transport.NodeIdentity(id))
		if err := pki.WriteKeyPair(kp, cert, key, true); err != nil {
			return err
		}
	}
	if err := os.WriteFile(s.keyFile(), []byte(base64.StdEncoding.EncodeToString(s.gossipKey)+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(s.tokenFile, []byte(s.token+"\n"), 0o600); err != nil {
		return err
	}
	s.written = true
	return nil
}

// args are the TLS and gossip-key flags of a process holding id's certificate.
func (s *security) args(id transport.Identity) []string {
	f := pki.TLSFiles(s.dir, id)
	return []string{"--tls-cert", f.CertFile, "--tls-key", f.KeyFile, "--tls-ca", f.CAFile, "--gossip-key-file", s.keyFile()}
}

// CellArgs issues and writes the certificate of a cell's conductor for ip and returns the flags
// that secure it: TLS with that certificate and the pool's gossip key.
func (c *Cluster) CellArgs(cellUUID, ip string) ([]string, error) {
	if err := c.sec.write(); err != nil {
		return nil, err
	}
	id := transport.CellIdentity(cellUUID)
	kp, err := pki.Issue(c.sec.ca, pki.CertRequest{Identity: id, IPs: []net.IP{net.ParseIP(ip)}})
	if err != nil {
		return nil, fmt.Errorf("cluster: certificate of cell %s: %w", cellUUID, err)
	}
	cert, key := pki.CertFiles(c.sec.dir, id)
	if err := pki.WriteKeyPair(kp, cert, key, true); err != nil {
		return nil, err
	}
	return c.sec.args(id), nil
}
