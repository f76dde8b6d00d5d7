package pki

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FileMode is the mode of every file written: certificates too, so that a directory of
// issued files never needs sorting out.
const FileMode fs.FileMode = 0o600

// ErrExists: a file to write is already there and overwriting was not asked for.
var ErrExists = errors.New("pki: file exists")

// WriteKeyPair writes kp's certificate (PEM) to certFile and its key to keyFile, mode 0600.
// Unless force, nothing is written when either file exists (ErrExists). Each file appears
// whole (written aside, then moved in place), so a process reloading on SIGHUP never reads a
// half-written one.
func WriteKeyPair(kp *KeyPair, certFile, keyFile string, force bool) error {
	keyPEM, err := kp.KeyPEM()
	if err != nil {
		return err
	}
	if !force {
		for _, f := range []string{certFile, keyFile} {
			if _, err := os.Lstat(f); err == nil {
				return fmt.Errorf("%w: %s (use --force to overwrite)", ErrExists, f)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("pki: %w", err)
			}
		}
	}
	if err := writeFile(keyFile, keyPEM, force); err != nil {
		return err
	}
	if err := writeFile(certFile, kp.CertPEM(), force); err != nil {
		if !force {
			os.Remove(keyFile)
		}
		return err
	}
	return nil
}

// writeFile writes data to a temporary file next to name, then moves it in place: replacing
// name when force, else failing if name exists.
func writeFile(name string, data []byte, force bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(FileMode); err != nil {
		tmp.Close()
		return fmt.Errorf("pki: %w", err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pki: write %s: %w", name, err)
	}
	if force {
		err = os.Rename(tmp.Name(), name)
	} else {
		err = os.Link(tmp.Name(), name)
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s (use --force to overwrite)", ErrExists, name)
	}
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}

// LoadKeyPair reads a certificate and its ECDSA key from PEM files (a CA to issue with).
func LoadKeyPair(certFile, keyFile string) (*KeyPair, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("pki: load %s and %s: %w", certFile, keyFile, err)
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("pki: %s: want an ECDSA key, got %T", keyFile, pair.PrivateKey)
	}
	cert := pair.Leaf
	if cert == nil {
		if cert, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, fmt.Errorf("pki: parse %s: %w", certFile, err)
		}
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}
