package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cellmap/cellmap/transport"
)

// File names inside a directory of issued certificates, as cellmapctl tls writes them:
// cellmap-ca.pem and cellmap-ca-key.pem, then <kind>-<name>.pem and <kind>-<name>-key.pem
// (node-n1.pem, client-alice.pem, cell-<uuid>.pem).
const (
	caCertName = "cellmap-ca.pem"
	caKeyName  = "cellmap-ca-key.pem"
)

// CAFiles returns the CA's certificate and key files in dir.
func CAFiles(dir string) (certFile, keyFile string) {
	return filepath.Join(dir, caCertName), filepath.Join(dir, caKeyName)
}

// CertFiles returns the certificate and key files of id in dir.
func CertFiles(dir string, id transport.Identity) (certFile, keyFile string) {
	base := id.Kind + "-" + id.Name
	return filepath.Join(dir, base+".pem"), filepath.Join(dir, base+"-key.pem")
}

// TLSFiles returns the files a process holding id's certificate in dir is configured with.
func TLSFiles(dir string, id transport.Identity) transport.TLSFiles {
	cert, key := CertFiles(dir, id)
	ca, _ := CAFiles(dir)
	return transport.TLSFiles{CertFile: cert, KeyFile: key, CAFile: ca}
}

// EnsureCA loads the CA of dir, creating dir and the CA when absent; created says which.
func EnsureCA(dir string) (ca *KeyPair, created bool, err error) {
	certFile, keyFile := CAFiles(dir)
	if _, err := os.Stat(certFile); err == nil {
		ca, err := LoadKeyPair(certFile, keyFile)
		return ca, false, err
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("pki: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("pki: %w", err)
	}
	ca, err = NewCA(CARequest{})
	if err != nil {
		return nil, false, err
	}
	return ca, true, WriteKeyPair(ca, certFile, keyFile, false)
}

// EnsureCert issues req's certificate into dir with ca unless its files are there already;
// created says which.
func EnsureCert(dir string, ca *KeyPair, req CertRequest) (created bool, err error) {
	certFile, keyFile := CertFiles(dir, req.Identity)
	if _, err := os.Stat(certFile); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("pki: %w", err)
	}
	kp, err := Issue(ca, req)
	if err != nil {
		return false, err
	}
	return true, WriteKeyPair(kp, certFile, keyFile, false)
}
