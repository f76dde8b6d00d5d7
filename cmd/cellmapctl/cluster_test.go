package main

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/node"
)

func TestClusterStatus(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	raftAddr := n.Node.RaftAddr()
	r := ctl(t, n, "cluster", "status")
	r.want(t, exitOK)
	if got, want := tableHeader(t, r.stdout), []string{"Node", "State", "Term", "Leader", "Commit", "Applied", "Checksum"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("header: got %q, want %q", got, want)
	}
	rows := tableRows(t, r.stdout)
	if len(rows) != 1 || rows[0][0] != "n1" || rows[0][1] != "Leader" || rows[0][3] != "n1" || !strings.Contains(rows[0][6], "(index ") {
		t.Fatalf("node row: got %q", rows)
	}
	// The servers table follows after a blank line.
	_, second, ok := strings.Cut(r.stdout, "\n\n")
	if !ok {
		t.Fatalf("no second table:\n%s", r.stdout)
	}
	if got, want := tableHeader(t, second), []string{"ID", "Raft Address", "Suffrage"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("servers header: got %q, want %q", got, want)
	}
	if got, want := tableRows(t, second), [][]string{{"n1", raftAddr, "Voter"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("servers: got %q, want %q", got, want)
	}

	var st api.ClusterStatus
	decodeJSON(t, ctl(t, n, "--format", "json", "cluster", "status"), &st)
	if st.NodeID != "n1" || st.State != "Leader" || len(st.Servers) != 1 || st.Servers[0].RaftAddr != raftAddr {
		t.Fatalf("json: got %+v", st)
	}
}

// startIdleNode starts a node that is in no cluster yet: it waits to be joined.
func startIdleNode(t *testing.T, id string) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.NodeID, cfg.DataDir, cfg.RaftAddr, cfg.HTTPAddr = id, t.TempDir(), testkit.FreeAddr(t), testkit.FreeAddr(t)
	cfg.Raft, cfg.FSMNoSync, cfg.InitialMmapSize = node.TestRaftConfig(), true, 1<<20
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
		var st api.ClusterStatus
		decodeJSON(t, ctl(t, n, "--format", "json", "cluster", "status"), &st)
		var ids []string
		for _, s := range st.Servers {
			ids = append(ids, s.ID+"="+s.RaftAddr)
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
