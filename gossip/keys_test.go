package gossip

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

func keyOf(t *testing.T, b byte) []byte { t.Helper(); return bytes.Repeat([]byte{b}, 32) }

// TestEncryptedPoolRefusesStrangers: members of a pool with a key see each other; a member with
// another key, or none, cannot join and is never seen; a member that also holds the next key
// of a rotation is seen.
func TestEncryptedPoolRefusesStrangers(t *testing.T) {
	k1, k2 := keyOf(t, 1), keyOf(t, 2)
	rec := newRecorder()
	server, err := New(&Config{Name: "server/n1", BindAddr: testkit.FreeUDPTCPAddr(t), Profile: "test", Handler: rec,
		Meta: api.GossipMeta{Role: api.RoleServer, NodeID: "n1", HTTPAddr: "127.0.0.1:1"}, Keys: [][]byte{k1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Shutdown() })
	join := func(name string, keys [][]byte) error {
		g, err := New(&Config{Name: name, BindAddr: testkit.FreeUDPTCPAddr(t), Profile: "test", Join: []string{server.LocalAddr()},
			Meta: api.GossipMeta{Role: api.RoleConductor, CellUUID: "c1", HTTPAddr: "127.0.0.1:2"}, Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Shutdown() })
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return g.Join(ctx)
	}
	if err := join("conductor/c1/friend", [][]byte{k1}); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the member with the key seen", 10*time.Second, func() bool { return rec.is("conductor/c1/friend", true) })
	// A rotation installs the new key everywhere first (still encrypting with the old one).
	if err := join("conductor/c1/rotating", [][]byte{k1, k2}); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the member that also holds the next key seen", 10*time.Second, func() bool { return rec.is("conductor/c1/rotating", true) })
	if err := join("conductor/c1/stranger", [][]byte{k2}); err == nil {
		t.Fatal("a member with another key joined")
	}
	if err := join("conductor/c1/plain", nil); err == nil {
		t.Fatal("a member without a key joined")
	}
	for _, m := range server.Members() {
		if m.Name == "conductor/c1/stranger" || m.Name == "conductor/c1/plain" {
			t.Fatalf("the pool sees %s", m.Name)
		}
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "keys")
	os.WriteFile(p, []byte("AQEBAQEBAQEBAQEBAQEBAQ==\n\nAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n"), 0o600)
	keys, err := ReadKeyFile(p)
	if err != nil || len(keys) != 2 || len(keys[0]) != 16 || len(keys[1]) != 32 {
		t.Fatalf("keys %v %v", keys, err)
	}
	os.Chmod(p, 0o644)
	if _, err := ReadKeyFile(p); err == nil {
		t.Fatal("a world-readable key file was accepted")
	}
	for _, bad := range []string{"not base64!", "AQID"} {
		if _, err := ParseKey(bad); err == nil {
			t.Fatalf("key %q accepted", bad)
		}
	}
}

// TestKeyringRotation: install a new key on both members, use it on both, remove the old one:
// the members keep seeing each other throughout; the primary cannot be removed, an unknown key
// cannot be used; the key file follows every change; a member holding only the old key can no
// longer join.
func TestKeyringRotation(t *testing.T) {
	k1, k2 := keyOf(t, 1), keyOf(t, 2)
	b64 := func(k []byte) string { return base64.StdEncoding.EncodeToString(k) }
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "keys")
	os.WriteFile(keyFile, []byte(b64(k1)+"\n"), 0o600)
	rec := newRecorder()
	a, b := pair(t, rec, &Config{Name: "conductor/c1/b", BindAddr: testkit.FreeUDPTCPAddr(t), Profile: "test",
		Meta: api.GossipMeta{Role: api.RoleConductor, CellUUID: "c1", HTTPAddr: "127.0.0.1:2"}, Keys: [][]byte{k1}, KeyFile: keyFile}, k1)
	both := func(op string, k []byte) {
		t.Helper()
		for _, g := range []*Gossip{a, b} {
			if err := g.KeyOp(op, b64(k)); err != nil {
				t.Fatalf("%s: %v", op, err)
			}
		}
	}
	both(KeyInstall, k2)
	if err := b.KeyOp(KeyRemove, b64(k1)); !errors.Is(err, ErrKeyInUse) {
		t.Fatalf("removing the primary: %v", err)
	}
	if err := b.KeyOp(KeyUse, b64(keyOf(t, 3))); !errors.Is(err, ErrKeyUnknown) {
		t.Fatalf("using an unknown key: %v", err)
	}
	both(KeyUse, k2)
	both(KeyRemove, k1)
	keys, _ := b.Keys()
	file, _ := os.ReadFile(keyFile)
	if len(keys) != 1 || keys[0] != b64(k2) || strings.TrimSpace(string(file)) != b64(k2) {
		t.Fatalf("keys %v, file %q; want only the new key", keys, file)
	}
	if info, _ := os.Stat(keyFile); info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", info.Mode().Perm())
	}
	// Still one pool: b answers a's probes under the new key.
	testkit.WaitFor(t, "b alive after the rotation", 10*time.Second, func() bool { return rec.is("conductor/c1/b", true) })
	old, err := New(&Config{Name: "conductor/c1/old", BindAddr: testkit.FreeUDPTCPAddr(t), Profile: "test", Join: []string{a.LocalAddr()},
		Keys: [][]byte{k1}, Meta: api.GossipMeta{Role: api.RoleConductor, CellUUID: "c1", HTTPAddr: "127.0.0.1:3"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { old.Shutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := old.Join(ctx); err == nil {
		t.Fatal("a member with the removed key joined")
	}
}
