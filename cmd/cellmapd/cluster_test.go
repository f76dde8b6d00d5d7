package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// proc is one cellmapd process of a test cluster.
type proc struct {
	id, dir, http, raft string
	p                   *testcluster.Process
	c                   *client.Client
}

func startProc(t *testing.T, pr *proc, extra ...string) {
	t.Helper()
	args := append([]string{"--node-id", pr.id, "--data-dir", pr.dir, "--http-addr", pr.http, "--raft-addr", pr.raft,
		"--gossip-addr", testkit.FreeAddr(t), "--raft-profile", "test", "--log-level", "warn",
		"--acl-bootstrap-token-file", testkit.AdminTokenFile(t)}, extra...)
	pr.p = testcluster.Start(t, pr.id, testcluster.Binary(t, "cellmapd"), args...)
	pr.c = client.New(pr.http, nil).WithToken(testkit.AdminToken)
}

func ctx(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

func leaderOf(t *testing.T, procs []*proc) *proc {
	t.Helper()
	var leader *proc
	testkit.WaitFor(t, "one leader", 30*time.Second, func() bool {
		for _, pr := range procs {
			if pr == nil || pr.p.Exited() {
				continue
			}
			st, err := pr.c.ClusterStatus(ctx(t, time.Second))
			if err == nil && st.State == "Leader" {
				leader = pr
				return true
			}
		}
		return false
	})
	return leader
}

func mapping(project string) api.InstanceMappingPut {
	return api.InstanceMappingPut{ProjectID: project}
}

func uuidN(i int) string { return fmt.Sprintf("bbbbbbbb-0000-0000-0000-%012d", i) }

// TestThreeNodeCluster runs three real cellmapd processes on 127.0.0.1: a write on a follower
// is visible to a linearizable read on another node; killing the leader elects a new one and
// keeps every acknowledged write; the killed node, restarted on its data dir without flags,
// catches up to the same state checksum.
func TestThreeNodeCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	procs := make([]*proc, 3)
	for i := range procs {
		procs[i] = &proc{id: fmt.Sprintf("n%d", i+1), dir: t.TempDir(), http: testkit.FreeAddr(t), raft: testkit.FreeAddr(t)}
	}
	startProc(t, procs[0], "--bootstrap")
	testcluster.WaitReady(t, procs[0].http, 30*time.Second)
	for _, pr := range procs[1:] {
		startProc(t, pr, "--join", procs[0].http)
	}
	testkit.WaitFor(t, "three voters", 30*time.Second, func() bool {
		st, err := procs[0].c.ClusterStatus(ctx(t, time.Second))
		return err == nil && testcluster.Voters(st) == 3
	})
	leader := leaderOf(t, procs)
	var followers []*proc
	for _, pr := range procs {
		if pr != leader {
			followers = append(followers, pr)
		}
	}

	// Write on a follower, read linearizably on the other follower.
	if _, _, err := followers[0].c.PutInstanceMapping(ctx(t, 10*time.Second), uuidN(0), mapping("p"), client.Condition{IfAbsent: true}); err != nil {
		t.Fatalf("write on follower: %v", err)
	}
	if m, _, err := followers[1].c.InstanceMapping(ctx(t, 10*time.Second), uuidN(0)); err != nil || m.ProjectID != "p" {
		t.Fatalf("linearizable read on the other follower: got %+v, %v", m, err)
	}

	// Concurrent writers through every node while the leader is killed.
	acked := writeWhileKilling(t, procs, leader)
	if len(acked) == 0 {
		t.Fatalf("no write was acknowledged")
	}
	newLeader := leaderOf(t, procs)
	if newLeader == leader {
		t.Fatalf("the killed node is leader")
	}
	for _, pr := range followers {
		for _, id := range acked {
			if _, _, err := pr.c.InstanceMapping(ctx(t, 10*time.Second), id); err != nil {
				t.Fatalf("acknowledged write %s missing on %s: %v", id, pr.id, err)
			}
		}
	}

	// Restart the killed node on its data dir, without --bootstrap or --join.
	startProc(t, leader)
	testkit.WaitFor(t, "equal state checksums on all nodes", 60*time.Second, func() bool {
		var sums []string
		for _, pr := range procs {
			st, err := pr.c.ClusterStatus(ctx(t, time.Second))
			if err != nil {
				return false
			}
			sums = append(sums, fmt.Sprintf("%d/%s", st.FSMChecksumIdx, st.FSMChecksum))
		}
		return sums[0] == sums[1] && sums[1] == sums[2]
	})
	if _, _, err := leader.c.InstanceMapping(ctx(t, 10*time.Second), acked[len(acked)-1]); err != nil {
		t.Fatalf("restarted node does not serve the last acknowledged write: %v", err)
	}
}

// writeWhileKilling runs writers against all nodes, kills the leader after some writes, and
// returns the uuids whose writes were acknowledged.
func writeWhileKilling(t *testing.T, procs []*proc, leader *proc) []string {
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	const perWriter = 40
	for w, pr := range procs {
		wg.Add(1)
		go func(w int, c *client.Client) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				id := uuidN(1 + w*perWriter + i)
				wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, _, err := c.PutInstanceMapping(wctx, id, mapping("p"), client.Condition{})
				cancel()
				if err == nil {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		}(w, pr.c)
	}
	testkit.WaitFor(t, "some acknowledged writes", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 10
	})
	if err := leader.p.Kill(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return acked
}
