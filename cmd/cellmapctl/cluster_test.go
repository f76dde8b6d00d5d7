package main

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/node"
)

// TestClusterStatus: cluster status of a one-node cluster (reader; no token is refused with
// 255 and says why).
func TestClusterStatus(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	r := ctl(t, n, "cluster", "status")
	r.want(t, exitOK)
	want := []string{"ID", "Address", "Suffrage", "State", "Term", "Commit", "Applied", "Lag", "Last Contact", "Checksum", "Version", "Health"}
	if got := tableHeader(t, r.stdout); !reflect.DeepEqual(got, want) {
		t.Fatalf("header: got %q, want %q", got, want)
	}
	rows := tableRows(t, r.stdout)
	if len(rows) != 1 || rows[0][0] != "n1" || rows[0][1] != n.Addr || rows[0][2] != "Voter" || rows[0][3] != "Leader" ||
		rows[0][7] != "0" || !strings.Contains(rows[0][9], "(index ") || rows[0][10] == "" || rows[0][11] != "ok" {
		t.Fatalf("rows: got %q", rows)
	}

	var res clusterStatusResult
	decodeJSON(t, ctl(t, n, "--format", "json", "cluster", "status"), &res)
	if !res.Healthy || res.LeaderID != "n1" || len(res.Members) != 1 {
		t.Fatalf("json: got %+v", res)
	}
	if m := res.Members[0]; !m.Reachable || m.RaftAddr != n.Node.RaftAddr() || m.HTTPAddr != n.Addr || m.Lag == nil || *m.Lag != 0 ||
		m.FSMChecksum == "" || m.Health != "ok" {
		t.Fatalf("json member: got %+v", m)
	}

	ctlEnv(t, n, map[string]string{"CELLMAP_TOKEN": ""}, "cluster", "status").want(t, exitUnexpected)
}

// startIdleNode starts a node that is in no cluster yet: it waits to be joined.
func startIdleNode(t *testing.T, id string) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.NodeID, cfg.DataDir, cfg.RaftAddr, cfg.HTTPAddr = id, t.TempDir(), testkit.FreeAddr(t), testkit.FreeAddr(t)
	cfg.Raft, cfg.InitialMmapSize = node.TestRaftConfig(), 1<<20
	cfg.Logger = testcluster.Logger(t, id)
	nd, err := node.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		nd.Shutdown(ctx)
	})
	return nd
}

func TestClusterJoinRemove(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	n2 := startIdleNode(t, "n2")

	servers := func() []string {
		t.Helper()
		var res clusterStatusResult
		decodeJSON(t, ctl(t, n, "--format", "json", "cluster", "status"), &res)
		var ids []string
		for _, m := range res.Members {
			ids = append(ids, m.ID+"="+m.RaftAddr)
		}
		return ids
	}
	self := "n1=" + n.Node.RaftAddr()

	ctl(t, n, "cluster", "join", "--node-id", "n1", "--raft-addr", n.Node.RaftAddr()).
		wantExact(t, exitOK, "Node n1 ("+n.Node.RaftAddr()+") is a member of the cluster.\n")
	ctl(t, n, "cluster", "join", "--node-id", "n2", "--raft-addr", n2.RaftAddr()).
		wantExact(t, exitOK, "Node n2 ("+n2.RaftAddr()+") is a member of the cluster.\n")
	if got, want := servers(), []string{self, "n2=" + n2.RaftAddr()}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after join: got %q, want %q", got, want)
	}
	ctl(t, n, "cluster", "remove", "n2").wantExact(t, exitOK, "Node n2 was removed from the cluster.\n")
	if got, want := servers(), []string{self}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after remove: got %q, want %q", got, want)
	}
	ctl(t, n, "cluster", "remove", "--node-id", "n2").wantExact(t, exitRemoveRefused, "Node n2 is not a member of the cluster.\n")
	ctl(t, n, "cluster", "join", "--node-id", "bad\x01id", "--raft-addr", "127.0.0.1:1").
		want(t, exitJoinRefused, "Cannot add node bad\x01id: node_id must not contain control characters")

	r := ctl(t, n, "--format", "json", "cluster", "remove", "ghost")
	var rep jsonReport
	decodeJSON(t, r, &rep)
	if r.code != exitRemoveRefused || rep.ExitCode != exitRemoveRefused || len(rep.Messages) != 1 {
		t.Fatalf("json: got exit %d, %+v", r.code, rep)
	}
}
