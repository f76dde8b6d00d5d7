package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestGossipKeyKeepsStrangersOut: cellmapd and a conductor sharing --gossip-key-file see each
// other (the cell comes up); a conductor with another key never joins the pool and is never
// listed. (GET /v1/conductors needs reader; here the admin token.)
func TestGossipKeyKeepsStrangersOut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	keyFile := func(name, key string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(key+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ours := keyFile("ours", "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
	theirs := keyFile("theirs", "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=")
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{Size: 1,
		Args: []string{"--gossip-key-file", ours, "--gossip-profile", "test"}})
	n := c.Nodes[0]
	start := func(cell, key string) *conductorProc {
		cp := &conductorProc{cell: cell, dir: t.TempDir(), http: testkit.FreeAddr(t), gossip: testkit.FreeUDPTCPAddr(t)}
		cp.p = testcluster.Start(t, "conductor-"+cell[:8], testcluster.Binary(t, "cellconductor"),
			"--cell-uuid", cell, "--data-dir", cp.dir, "--http-addr", cp.http, "--gossip-addr", cp.gossip,
			"--join", n.Gossip, "--gossip-profile", "test", "--hosts", "h1:4:4096:40", "--log-level", "warn", "--gossip-key-file", key)
		return cp
	}
	const good, bad = "600d0000-0000-4000-8000-000000000001", "bad00000-0000-4000-8000-000000000002"
	start(good, ours)
	start(bad, theirs)
	testkit.WaitFor(t, "the conductor with the pool's key listed", 30*time.Second, func() bool {
		cs, err := n.Client.Conductors(ctx(t, 5*time.Second))
		if err != nil {
			return false
		}
		for _, cd := range cs {
			if cd.CellUUID == good && cd.Alive {
				return true
			}
		}
		return false
	})
	cs, err := n.Client.Conductors(ctx(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, cd := range cs {
		if cd.CellUUID == bad {
			t.Fatalf("a conductor with another gossip key is in the pool: %+v", cd)
		}
	}
}
