package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestRevokeIsSeenByEveryNode: three real processes; a reader token works on every node; it is
// revoked through a follower (admin); the moment the revoke returns, every node refuses it
// with 401, and a denied write changed nothing (checksums). Who may call what: the revoke
// and token create need admin; the reads need reader.
func TestRevokeIsSeenByEveryNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := testcluster.StartCluster(t, nil)
	leader := c.Leader(t)
	var follower *testcluster.ProcNode
	for _, n := range c.Nodes {
		if n != leader {
			follower = n
			break
		}
	}
	tok, err := leader.Client.CreateToken(ctx(t, 10*time.Second), api.TokenCreate{Description: "revoke test", Role: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes {
		if _, err := n.Client.WithToken(tok.Secret).Cells(ctx(t, 10*time.Second), false); err != nil {
			t.Fatalf("%s before the revoke: %v", n.ID, err)
		}
		_, err := n.Client.WithToken(tok.Secret).CreateFlavor(ctx(t, 10*time.Second), api.Flavor{ID: "x", Name: "x", VCPUs: 1, RAMMB: 1})
		if err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("%s: a reader created a flavor: %v, want 403", n.ID, err)
		}
	}
	if err := follower.Client.RevokeToken(ctx(t, 30*time.Second), tok.AccessorID); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.Nodes {
		_, err := n.Client.WithToken(tok.Secret).Cells(ctx(t, 10*time.Second), false)
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("%s accepted a token right after its revoke returned: %v", n.ID, err)
		}
	}
	sums := map[string]bool{}
	for _, n := range c.Nodes {
		st, err := n.Client.ClusterStatus(ctx(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		sums[st.FSMChecksum] = true
	}
	if len(sums) != 1 {
		t.Fatalf("checksums differ across nodes: %v", sums)
	}
}

// TestAuditLogFile: cellmapd --audit-log writes one JSON line per write (here: admin flavor
// creates and a reader's refused one), rotates at --audit-log-max-bytes keeping
// --audit-log-keep files, mode 0600, and never writes a token.
func TestAuditLogFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{Size: 1,
		Args: []string{"--audit-log", path, "--audit-log-max-bytes", "2048", "--audit-log-keep", "2"}})
	cl := c.Nodes[0].Client
	reader, err := cl.CreateToken(ctx(t, 10*time.Second), api.TokenCreate{Role: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		if _, err := cl.CreateFlavor(ctx(t, 10*time.Second), api.Flavor{ID: strconv.Itoa(i), Name: "f" + strconv.Itoa(i), VCPUs: 1, RAMMB: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.WithToken(reader.Secret).CreateFlavor(ctx(t, 10*time.Second), api.Flavor{ID: "r", Name: "r", VCPUs: 1, RAMMB: 1}); err == nil {
		t.Fatal("a reader created a flavor")
	}
	var all []string
	for _, p := range []string{path, path + ".1", path + ".2"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%s: %v (want the log and 2 rotated files)", p, err)
		}
		if info, _ := os.Stat(p); info.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v", p, info.Mode().Perm())
		}
		all = append(all, strings.Split(strings.TrimSpace(string(b)), "\n")...)
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Fatal("more rotated files than --audit-log-keep")
	}
	text := strings.Join(all, "\n")
	if !strings.Contains(all[0], `"path":"/v1/flavors"`) || !strings.Contains(text, `"role":"admin"`) ||
		!strings.Contains(text, `"status":403,"remote_addr"`) || !strings.Contains(text, `"role":"reader"`) {
		t.Fatalf("audit lines:\n%s", text)
	}
	if strings.Contains(text, testkit.AdminToken) || strings.Contains(text, reader.Secret) {
		t.Fatal("the audit log holds a token")
	}
}

// TestExpiredTokensArePurged: a one-node process with a short --token-purge-interval and no
// grace; a token created with a TTL of a second leaves the token list once it expired, one
// without a TTL stays. Who may call what: listing and creating tokens needs admin.
func TestExpiredTokensArePurged(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{Size: 1,
		Args: []string{"--token-purge-interval", "100ms", "--token-purge-grace", "0s"}})
	n := c.Nodes[0]
	short, err := n.Client.CreateToken(ctx(t, 10*time.Second), api.TokenCreate{Description: "short", Role: "reader", TTL: "1s"})
	if err != nil {
		t.Fatal(err)
	}
	long, err := n.Client.CreateToken(ctx(t, 10*time.Second), api.TokenCreate{Description: "long", Role: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	has := func(ts []api.Token, accessor string) bool {
		for _, tk := range ts {
			if tk.AccessorID == accessor {
				return true
			}
		}
		return false
	}
	testkit.WaitFor(t, "the expired token purged", 30*time.Second, func() bool {
		ts, err := n.Client.Tokens(ctx(t, 10*time.Second))
		return err == nil && !has(ts, short.AccessorID)
	})
	ts, err := n.Client.Tokens(ctx(t, 10*time.Second))
	if err != nil || !has(ts, long.AccessorID) {
		t.Fatalf("the token without expiry is gone: %v", err)
	}
}
