package gossip

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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
