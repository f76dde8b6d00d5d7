package gossip

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Keyring operations, as `consul keyring` has them.
const (
	KeyInstall = "install" // accept a new key (it does not encrypt yet)
	KeyUse     = "use"     // make an installed key the one that encrypts
	KeyRemove  = "remove"  // forget a key that no longer encrypts
)

// Keyring errors.
var (
	// ErrNoEncryption: this member gossips without encryption, so it has no keyring (memberlist
	// cannot turn encryption on while running; restart with a key file).
	ErrNoEncryption = errors.New("gossip encryption is not enabled on this member")
	// ErrKeyInUse: the key encrypts the pool's traffic; make another one primary first.
	ErrKeyInUse = errors.New("the key is the primary key")
	// ErrKeyUnknown: the key is not installed.
	ErrKeyUnknown = errors.New("the key is not installed")
)

// Keys returns this member's keys, base64, the primary first.
func (g *Gossip) Keys() ([]string, error) {
	kr := g.keyring
	if kr == nil {
		return nil, ErrNoEncryption
	}
	var out []string
	for _, k := range kr.GetKeys() { // primary first
		out = append(out, encodeKey(k))
	}
	return out, nil
}

// KeyOp installs, uses or removes a key on this member and, when the member has a key file
// (Config.KeyFile), rewrites it (primary first) so that a restart keeps the keyring.
func (g *Gossip) KeyOp(op, key string) error {
	kr := g.keyring
	if kr == nil {
		return ErrNoEncryption
	}
	k, err := ParseKey(key)
	if err != nil {
		return err
	}
	g.keyMu.Lock()
	defer g.keyMu.Unlock()
	switch op {
	case KeyInstall:
		err = kr.AddKey(k)
	case KeyUse:
		if !hasKey(kr.GetKeys(), k) {
			return ErrKeyUnknown
		}
		err = kr.UseKey(k)
	case KeyRemove:
		if p := kr.GetPrimaryKey(); string(p) == string(k) {
			return ErrKeyInUse
		}
		if !hasKey(kr.GetKeys(), k) {
			return ErrKeyUnknown
		}
		err = kr.RemoveKey(k)
	default:
		return fmt.Errorf("gossip: unknown keyring operation %q (want install, use or remove)", op)
	}
	if err != nil {
		return fmt.Errorf("gossip: keyring %s: %w", op, err)
	}
	return g.saveKeys()
}

// encodeKey is a key as key files and answers write it.
func encodeKey(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

func hasKey(keys [][]byte, k []byte) bool {
	for _, x := range keys {
		if string(x) == string(k) {
			return true
		}
	}
	return false
}

// saveKeys writes the keyring to the key file (mode 0600, replaced whole).
func (g *Gossip) saveKeys() error {
	if g.cfg.KeyFile == "" {
		return nil
	}
	keys, err := g.Keys()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(g.cfg.KeyFile), ".keys-*")
	if err != nil {
		return fmt.Errorf("gossip: save keyring: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(strings.Join(keys, "\n") + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), g.cfg.KeyFile)
	}
	if err != nil {
		return fmt.Errorf("gossip: save keyring: %w", err)
	}
	return nil
}
