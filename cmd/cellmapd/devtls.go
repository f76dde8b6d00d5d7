package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"

	"github.com/cellmap/cellmap/internal/pki"
	"github.com/cellmap/cellmap/transport"
)

// devTLSDir is where --dev-tls keeps its CA and certificates, under the data directory.
const devTLSDir = "tls"

// devTLSFiles makes sure <data-dir>/tls/ holds a CA, this node's certificate and the cell1
// conductor's (generated on first start, reused after), points the TLS flags at the node's
// files and loads the conductor's.
func (cfg *serverConfig) devTLSFiles() error {
	o := cfg.opts
	dir, err := filepath.Abs(filepath.Join(o.dataDir, devTLSDir))
	if err != nil {
		return err
	}
	ca, created, err := pki.EnsureCA(dir)
	if err != nil {
		return fmt.Errorf("--dev-tls: %w", err)
	}
	if created {
		cfg.logger.Info("--dev-tls: generated a CA", "dir", dir)
	}
	loopback := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	nodeID, cellID := transport.NodeIdentity(o.nodeID), transport.CellIdentity(devCell1UUID)
	for _, req := range []pki.CertRequest{
		{Identity: nodeID, IPs: loopback, DNSNames: []string{"localhost"}},
		{Identity: cellID, IPs: loopback, DNSNames: []string{"localhost"}},
	} {
		if _, err := pki.EnsureCert(dir, ca, req); err != nil {
			return fmt.Errorf("--dev-tls: %w", err)
		}
	}
	files := pki.TLSFiles(dir, nodeID)
	o.tls.CertFile, o.tls.KeyFile, o.tls.CAFile = files.CertFile, files.KeyFile, files.CAFile
	if cfg.devConductorTLS, err = transport.NewTLSReloader(pki.TLSFiles(dir, cellID)); err != nil {
		return fmt.Errorf("--dev-tls: %w", err)
	}
	return nil
}

// devConductorServerTLS is the embedded conductor's listener configuration with --dev-tls:
// mutual TLS, node certificates only, as cellconductor's.
func (cfg *serverConfig) devConductorServerTLS() *tls.Config {
	if cfg.devConductorTLS == nil {
		return nil
	}
	return cfg.devConductorTLS.ServerConfig(tls.RequireAndVerifyClientCert, transport.RequireKind(transport.KindNode))
}

// scheme is the scheme of this node's HTTP API and of the dev conductor's.
func (cfg *serverConfig) scheme() string {
	if cfg.tls != nil {
		return "https"
	}
	return "http"
}
