package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestKeyringRotationAcrossThePool rotates the gossip key of a running pool of two cellmapd
// nodes and two conductors, each with its own key file, with `cellmapctl keyring install |
// use | remove | list` against one node, as `consul keyring` does. Role: admin; an operator
// token is refused (exit 1) and changes nothing. Every member's key file ends holding only the
// new key, the cells stay up throughout, a conductor restarted from its rewritten file rejoins,
// and one holding only the old key never does.
func TestKeyringRotationAcrossThePool(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	const k1, k2 = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
	dir := t.TempDir()
	keyFile := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(k1+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	files := []string{keyFile("n1"), keyFile("n2"), keyFile("cell-a"), keyFile("cell-b")}
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{Size: 1, FirstArgs: []string{"--gossip-key-file", files[0]}})
	n1 := c.Nodes[0]
	n2 := &testcluster.ProcNode{ID: "n2", Dir: t.TempDir(), HTTP: testkit.FreeAddr(t), Raft: testkit.FreeAddr(t), Gossip: testkit.FreeUDPTCPAddr(t)}
	n2.Client = client.New(n2.HTTP, nil).WithToken(testkit.AdminToken)
	t.Cleanup(n2.Client.Close)
	c.Start(t, n2, "--join", c.URL(n1), "--gossip-join", n1.Gossip, "--gossip-key-file", files[1])
	testcluster.WaitClientReady(t, n2.Client, 30*time.Second)
	cells := []string{"a0000000-0000-4000-8000-00000000000a", "b0000000-0000-4000-8000-00000000000b"}
	conductors := map[string]*conductorProc{}
	startKeyed := func(cell, key string) *conductorProc {
		cp := &conductorProc{cell: cell, dir: t.TempDir(), http: testkit.FreeAddr(t), gossip: testkit.FreeUDPTCPAddr(t)}
		cp.p = testcluster.Start(t, "conductor-"+cell[:8], testcluster.Binary(t, "cellconductor"),
			"--cell-uuid", cell, "--data-dir", cp.dir, "--http-addr", cp.http, "--gossip-addr", cp.gossip,
			"--join", n1.Gossip, "--gossip-profile", "test", "--hosts", "h1:4:4096:40", "--log-level", "warn", "--gossip-key-file", key)
		return cp
	}
	for i, cell := range cells {
		conductors[cell] = startKeyed(cell, files[2+i])
	}
	alive := func(cell string) bool {
		cs, err := n1.Client.Conductors(ctx(t, 5*time.Second))
		for _, cd := range cs {
			if err == nil && cd.CellUUID == cell && cd.Alive {
				return true
			}
		}
		return false
	}
	for _, cell := range cells {
		testkit.WaitFor(t, "conductor of "+cell+" in the pool", 30*time.Second, func() bool { return alive(cell) })
	}
	url := c.URL(n1)
	ring := func(args ...string) (int, string) { return ctlRun(t, url, append([]string{"keyring"}, args...)...) }
	list := func() api.KeyringResult {
		t.Helper()
		code, out := ring("list", "--format", "json")
		var res api.KeyringResult
		if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
			t.Fatalf("keyring list: exit %d, %v\n%s", code, err, out)
		}
		return res
	}
	if l := list(); l.Members != 4 || l.Keys[k1] != 4 || l.Primary[k1] != 4 {
		t.Fatalf("before: %+v", l)
	}

	op, err := n1.Client.CreateToken(ctx(t, 10*time.Second), api.TokenCreate{Role: "operator", Description: "not enough"})
	if err != nil {
		t.Fatal(err)
	}
	if code, out := ring("install", k2, "--token", op.Secret); code != 1 || !strings.Contains(out, "Refused") {
		t.Fatalf("install with an operator token: exit %d\n%s", code, out)
	}
	if code, out := ring("use", k2); code != 1 || !strings.Contains(out, "not installed on every") {
		t.Fatalf("use before install: exit %d\n%s", code, out)
	}
	if l := list(); l.Keys[k2] != 0 {
		t.Fatalf("refused operations installed the key: %+v", l)
	}

	for _, step := range []string{"install", "use", "remove"} {
		key := k2
		if step == "remove" {
			key = k1
		}
		if code, out := ring(step, key); code != 0 || !strings.Contains(out, "4 of 4 members done") {
			t.Fatalf("keyring %s: exit %d\n%s", step, code, out)
		}
		// A member that no longer understood the pool would stay dead; one a busy machine's
		// gossip suspected for a moment is back within the deadline.
		for _, cell := range cells {
			testkit.WaitFor(t, "after "+step+" the conductor of "+cell+" alive", 30*time.Second, func() bool { return alive(cell) })
		}
	}
	if l := list(); len(l.Keys) != 1 || l.Primary[k2] != 4 {
		t.Fatalf("after the rotation: %+v", l)
	}
	for _, f := range files {
		if b, _ := os.ReadFile(f); strings.TrimSpace(string(b)) != k2 {
			t.Fatalf("%s holds %q, want only the new key", filepath.Base(f), b)
		}
	}

	// The rewritten file is what a restart reads: the conductor rejoins.
	if err := conductors[cells[0]].p.Kill(); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the stopped conductor seen dead", 30*time.Second, func() bool { return !alive(cells[0]) })
	startKeyed(cells[0], files[2])
	testkit.WaitFor(t, "the restarted conductor back", 30*time.Second, func() bool { return alive(cells[0]) })
	stale := filepath.Join(dir, "stale")
	os.WriteFile(stale, []byte(k1+"\n"), 0o600)
	const strangerCell = "c0000000-0000-4000-8000-00000000000c"
	stranger := startKeyed(strangerCell, stale)
	testkit.WaitFor(t, "the stranger's join refused", 30*time.Second, func() bool {
		return strings.Contains(stranger.p.Output(), "gossip join failed")
	})
	if l := list(); l.Members != 4 {
		t.Fatalf("a member with the removed key is in the pool: %+v", l)
	}
}
