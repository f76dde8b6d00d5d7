package gossip

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// keyPool starts a server member and two conductors, all with key k and a key file each.
func keyPool(t *testing.T, k []byte) (server *Gossip, files []string) {
	t.Helper()
	dir := t.TempDir()
	var members []*Gossip
	for i, name := range []string{"server/n1", "conductor/c1/a", "conductor/c2/b"} {
		f := filepath.Join(dir, strings.ReplaceAll(name, "/", "-"))
		if err := os.WriteFile(f, []byte(encodeKey(k)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := &Config{Name: name, BindAddr: testkit.FreeUDPTCPAddr(t), Profile: "test", Keys: [][]byte{k}, KeyFile: f,
			Meta: api.GossipMeta{Role: api.RoleConductor, CellUUID: strings.Split(name, "/")[1], HTTPAddr: "127.0.0.1:2"}}
		if i == 0 {
			cfg.Meta = api.GossipMeta{Role: api.RoleServer, NodeID: "n1", HTTPAddr: "127.0.0.1:1"}
		} else {
			cfg.Join = []string{members[0].LocalAddr()}
		}
		g, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Shutdown() })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = g.Join(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		members, files = append(members, g), append(files, f)
	}
	testkit.WaitFor(t, "every member seen by the server", 10*time.Second, func() bool {
		alive := 0
		for _, m := range members[0].Members() {
			if m.Alive {
				alive++
			}
		}
		return alive == 3
	})
	return members[0], files
}

func poolOp(t *testing.T, g *Gossip, op string, k []byte) *api.KeyringResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := ""
	if k != nil {
		key = encodeKey(k)
	}
	res, err := g.PoolKeyOp(ctx, op, key)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return res
}

// TestPoolKeyringRotation: one member rotates the key of a pool of three (a server and two
// conductors) while it runs, as `consul keyring` does: install, use, remove reach every member
// and its key file; `use` of a key some member lacks is refused and changes nothing; a failing
// member is counted; a member holding only the old key cannot join afterwards.
func TestPoolKeyringRotation(t *testing.T) {
	k1, k2, k3 := keyOf(t, 1), keyOf(t, 2), keyOf(t, 3)
	server, files := keyPool(t, k1)

	if l := poolOp(t, server, KeyList, nil); l.Members != 3 || l.Failed != 0 || l.Keys[encodeKey(k1)] != 3 || l.Primary[encodeKey(k1)] != 3 {
		t.Fatalf("list: %+v", l)
	}
	if r := poolOp(t, server, KeyInstall, k2); r.Failed != 0 || r.Members != 3 {
		t.Fatalf("install: %+v", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := server.PoolKeyOp(ctx, KeyUse, encodeKey(k3)); !errors.Is(err, ErrKeyNotEverywhere) {
		t.Fatalf("use of a key nobody holds: %v", err)
	}
	if r := poolOp(t, server, KeyRemove, k1); r.Failed != 3 || !strings.Contains(r.Results[0].Error, ErrKeyInUse.Error()) {
		t.Fatalf("removing the primary everywhere: %+v", r)
	}
	if l := poolOp(t, server, KeyList, nil); l.Keys[encodeKey(k2)] != 3 || l.Primary[encodeKey(k1)] != 3 {
		t.Fatalf("after refused operations: %+v", l)
	}
	if r := poolOp(t, server, KeyUse, k2); r.Failed != 0 {
		t.Fatalf("use: %+v", r)
	}
	if r := poolOp(t, server, KeyRemove, k1); r.Failed != 0 {
		t.Fatalf("remove: %+v", r)
	}
	l := poolOp(t, server, KeyList, nil)
	if l.Members != 3 || l.Failed != 0 || len(l.Keys) != 1 || l.Primary[encodeKey(k2)] != 3 {
		t.Fatalf("after the rotation: %+v", l)
	}
	for _, f := range files {
		if b, _ := os.ReadFile(f); strings.TrimSpace(string(b)) != encodeKey(k2) {
			t.Fatalf("%s holds %q, want only the new key", f, b)
		}
	}
	join := func(name string, k []byte) error {
		g, err := New(&Config{Name: name, BindAddr: testkit.FreeUDPTCPAddr(t), Profile: "test", Join: []string{server.LocalAddr()},
			Keys: [][]byte{k}, Meta: api.GossipMeta{Role: api.RoleConductor, CellUUID: "c3", HTTPAddr: "127.0.0.1:3"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Shutdown() })
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return g.Join(ctx)
	}
	if err := join("conductor/c3/old", k1); err == nil {
		t.Fatal("a member with the removed key joined")
	}
	if err := join("conductor/c3/new", k2); err != nil {
		t.Fatalf("a member with the new key: %v", err)
	}
}

// TestPoolKeyOpRefusesBadInput: a malformed operation or key is refused before anything is
// sent; a pool without encryption has no keyring.
func TestPoolKeyOpRefusesBadInput(t *testing.T) {
	server, _ := keyPool(t, keyOf(t, 1))
	ctx := context.Background()
	for _, c := range []struct{ op, key string }{{"rotate", encodeKey(keyOf(t, 2))}, {KeyInstall, "not base64!"}, {KeyInstall, "AQID"}, {KeyUse, ""}} {
		if _, err := server.PoolKeyOp(ctx, c.op, c.key); !errors.Is(err, ErrInvalidKeyOp) {
			t.Fatalf("%s %q: %v, want ErrInvalidKeyOp", c.op, c.key, err)
		}
	}
	if l := poolOp(t, server, KeyList, nil); len(l.Keys) != 1 {
		t.Fatalf("refused operations changed the keyring: %+v", l)
	}
	plain, err := New(&Config{Name: "server/plain", BindAddr: testkit.FreeUDPTCPAddr(t), Profile: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Shutdown() })
	if _, err := plain.PoolKeyOp(ctx, KeyList, ""); !errors.Is(err, ErrNoEncryption) {
		t.Fatalf("list without encryption: %v", err)
	}
}
