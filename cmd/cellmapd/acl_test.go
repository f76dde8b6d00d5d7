package main

import (
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
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
