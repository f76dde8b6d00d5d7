package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/backup"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// Backup, restore and disaster recovery with real cellmapd and cellmapctl processes.
// Role: GET /v1/operator/backup and POST /v1/operator/restore need an admin token once the
// API checks tokens; the lead gates them (issue 10).

// ctlRun runs the cellmapctl binary against the node at url and returns its exit code and
// output.
func ctlRun(t *testing.T, url string, args ...string) (int, string) {
	t.Helper()
	cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, testcluster.Binary(t, "cellmapctl"), append([]string{"--addr", url, "--timeout", "90s"}, args...)...)
	cmd.Env = []string{"CELLMAP_TOKEN=" + testkit.AdminToken} // the operator endpoints need admin
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	case err != nil:
		t.Fatalf("cellmapctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return 0, string(out)
}

// mustCtl runs cellmapctl and requires exit code 0.
func mustCtl(t *testing.T, url string, args ...string) string {
	t.Helper()
	code, out := ctlRun(t, url, args...)
	if code != 0 {
		t.Fatalf("cellmapctl %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// mappingIDs returns n instance uuids with a prefix digit.
func mappingIDs(prefix, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%d0000000-0000-4000-8000-%012d", prefix, i)
	}
	return ids
}

// writeMappings maps ids into a cell, spreading the writes over the nodes.
func writeMappings(t *testing.T, c *testcluster.Cluster, cellUUID string, ids []string) {
	t.Helper()
	for i, id := range ids {
		cl := c.Nodes[i%len(c.Nodes)].Client
		in := api.InstanceMappingPut{ProjectID: "p1", CellUUID: &cellUUID}
		if _, _, err := cl.PutInstanceMapping(ctx(t, 10*time.Second), id, in, client.Condition{}); err != nil {
			t.Fatalf("map %s: %v", id, err)
		}
	}
}

// seedCluster maps a cell, a host and the instances ids.
func seedCluster(t *testing.T, c *testcluster.Cluster, ids []string) string {
	t.Helper()
	cell, err := c.Nodes[0].Client.CreateCell(ctx(t, 10*time.Second), api.CellCreate{Name: "cell1", TransportURL: "rabbit://mq1/",
		DatabaseConnection: "mysql://db1/nova"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Nodes[1].Client.PutHost(ctx(t, 10*time.Second), "compute1", cell.UUID, client.Condition{}); err != nil {
		t.Fatal(err)
	}
	writeMappings(t, c, cell.UUID, ids)
	return cell.UUID
}

// waitChecksums waits until every running node reports the checksum want.
func waitChecksums(t *testing.T, nodes []*testcluster.ProcNode, want string) {
	t.Helper()
	testkit.WaitFor(t, "checksum "+want+" on every node", 60*time.Second, func() bool {
		for _, n := range nodes {
			st, err := n.Client.ClusterStatus(ctx(t, time.Second))
			if err != nil || st.FSMChecksum != want {
				return false
			}
		}
		return true
	})
}

// commonChecksum waits until the nodes agree on a checksum and returns it.
func commonChecksum(t *testing.T, nodes []*testcluster.ProcNode) string {
	t.Helper()
	var sum string
	testkit.WaitFor(t, "one checksum on every node", 60*time.Second, func() bool {
		sum = ""
		for _, n := range nodes {
			st, err := n.Client.ClusterStatus(ctx(t, time.Second))
			if err != nil || (sum != "" && st.FSMChecksum != sum) {
				return false
			}
			sum = st.FSMChecksum
		}
		return true
	})
	return sum
}

// requireMappings reads every id on every node (linearizable) and requires cellUUID.
func requireMappings(t *testing.T, nodes []*testcluster.ProcNode, cellUUID string, ids []string) {
	t.Helper()
	for _, n := range nodes {
		for _, id := range ids {
			m, _, err := n.Client.InstanceMapping(ctx(t, 10*time.Second), id)
			if err != nil || m.CellUUID == nil || *m.CellUUID != cellUUID {
				t.Fatalf("%s: mapping %s: %+v, %v", n.ID, id, m, err)
			}
		}
	}
}

// requireAbsent requires a 404 for every id on every node.
func requireAbsent(t *testing.T, nodes []*testcluster.ProcNode, ids []string) {
	t.Helper()
	for _, n := range nodes {
		for _, id := range ids {
			if _, _, err := n.Client.InstanceMapping(ctx(t, 10*time.Second), id); !client.IsNotFound(err) {
				t.Fatalf("%s: mapping %s: %v, want 404", n.ID, id, err)
			}
		}
	}
}

// followerOf returns a node of c that is not the leader.
func followerOf(t *testing.T, c *testcluster.Cluster) *testcluster.ProcNode {
	t.Helper()
	leader := c.Leader(t)
	for _, n := range c.Nodes {
		if n != leader {
			return n
		}
	}
	t.Fatal("no follower")
	return nil
}

// TestBackupDestroyRestoreNewCluster: a backup taken through a follower survives the loss of
// the whole cluster: a new cluster started from it (--bootstrap --restore-from) has the
// backup's checksum on every node and every mapping.
func TestBackupDestroyRestoreNewCluster(t *testing.T) {
	t.Parallel()
	old := testcluster.StartCluster(t, nil)
	ids := mappingIDs(1, 40)
	cellUUID := seedCluster(t, old, ids)
	sum := commonChecksum(t, old.Nodes)

	file := filepath.Join(t.TempDir(), "cellmap.backup")
	out := mustCtl(t, old.URL(followerOf(t, old)), "backup", file)
	if !strings.Contains(out, "FSM checksum "+sum) {
		t.Fatalf("backup of checksum %s says:\n%s", sum, out)
	}
	info, err := backup.Verify(file)
	if err != nil {
		t.Fatal(err)
	}
	mustCtl(t, old.URL(old.Nodes[0]), "backup", "verify", file)

	// Destroy: every process killed, every data directory removed.
	for _, n := range old.Nodes {
		if err := n.Proc.Kill(); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(n.Dir); err != nil {
			t.Fatal(err)
		}
	}

	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{FirstArgs: []string{"--restore-from", file}})
	waitChecksums(t, c.Nodes, info.Header.FSMChecksum)
	if info.Header.FSMChecksum != sum {
		t.Fatalf("backup checksum %s, cluster's %s", info.Header.FSMChecksum, sum)
	}
	requireMappings(t, c.Nodes, cellUUID, ids)
	if hosts, err := c.Nodes[2].Client.Hosts(ctx(t, 10*time.Second), cellUUID); err != nil || len(hosts) != 1 {
		t.Fatalf("hosts: %+v, %v", hosts, err)
	}
	// The new cluster takes writes.
	writeMappings(t, c, cellUUID, mappingIDs(2, 3))
	requireMappings(t, c.Nodes, cellUUID, mappingIDs(2, 3))
}

// TestRestoreRunningCluster: damaged and truncated backups are refused with a clear error and
// change nothing; a good one, sent to a follower, is restored while clients read on every
// node: every read answers, and every node ends with the backup's checksum.
func TestRestoreRunningCluster(t *testing.T) {
	t.Parallel()
	c := testcluster.StartCluster(t, nil)
	kept := mappingIDs(1, 20)
	cellUUID := seedCluster(t, c, kept)
	dir := t.TempDir()
	file := filepath.Join(dir, "cellmap.backup")
	mustCtl(t, c.URL(c.Leader(t)), "backup", file)
	info, err := backup.Verify(file)
	if err != nil {
		t.Fatal(err)
	}
	later := mappingIDs(2, 10)
	writeMappings(t, c, cellUUID, later)
	changed := commonChecksum(t, c.Nodes)
	if changed == info.Header.FSMChecksum {
		t.Fatal("the writes after the backup did not change the checksum")
	}

	t.Run("damaged backups are refused", func(t *testing.T) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		flipped := bytes.Clone(data)
		flipped[len(flipped)-200] ^= 0x01
		bad := map[string][]byte{"truncated": data[:len(data)/3], "flipped": flipped}
		for name, b := range bad {
			path := filepath.Join(dir, name+".backup")
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			code, out := ctlRun(t, c.URL(c.Nodes[1]), "restore", path)
			if code != exitRestoreRefusedForTest || !strings.Contains(out, "is not a valid backup") {
				t.Fatalf("%s: cellmapctl restore exit %d, want 1:\n%s", name, code, out)
			}
			// Sent anyway, the node refuses it: 400 with a JSON error.
			_, err := c.Nodes[1].Client.Restore(ctx(t, 30*time.Second), bytes.NewReader(b))
			var ae *client.Error
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != api.CodeInvalid || !strings.Contains(ae.Message, "backup is not valid") {
				t.Fatalf("%s: got %v, want 400 invalid", name, err)
			}
		}
		waitChecksums(t, c.Nodes, changed)
		requireMappings(t, c.Nodes, cellUUID, later)
	})

	// Readers on every node, bounded in count and time, read mappings the backup holds.
	stop := make(chan struct{})
	var reads, failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for _, n := range c.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, _, err := n.Client.InstanceMapping(rctx, kept[i%len(kept)])
				cancel()
				reads.Add(1)
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%s: %v", n.ID, err))
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	testkit.WaitFor(t, "readers under way", 30*time.Second, func() bool { return reads.Load() >= 30 })

	out := mustCtl(t, c.URL(followerOf(t, c)), "restore", file)
	if !strings.Contains(out, "FSM checksum "+info.Header.FSMChecksum) {
		t.Fatalf("restore says:\n%s", out)
	}
	waitChecksums(t, c.Nodes, info.Header.FSMChecksum)
	after := reads.Load()
	testkit.WaitFor(t, "reads after the restore", 60*time.Second, func() bool { return reads.Load() >= after+30 })
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d of %d reads failed during the restore; first: %v", n, reads.Load(), firstErr.Load())
	}
	requireMappings(t, c.Nodes, cellUUID, kept)
	requireAbsent(t, c.Nodes, later)
	t.Logf("%d reads, none failed", reads.Load())
}

// exitRestoreRefusedForTest is cellmapctl restore's exit code for a refused backup.
const exitRestoreRefusedForTest = 1

// TestRecoverAfterLosingTwoOfThree: two of three nodes are destroyed; the survivor, stopped,
// is recovered with cellmapd recover, starts as a one-node cluster with every committed
// mapping, takes writes, and a new node joins it.
func TestRecoverAfterLosingTwoOfThree(t *testing.T) {
	t.Parallel()
	c := testcluster.StartCluster(t, nil)
	ids := mappingIDs(1, 30)
	cellUUID := seedCluster(t, c, ids)
	sum := commonChecksum(t, c.Nodes)

	survivor := c.Nodes[2]
	for _, n := range c.Nodes {
		if err := n.Proc.Kill(); err != nil {
			t.Fatal(err)
		}
		if n != survivor {
			os.RemoveAll(n.Dir)
		}
	}
	// Recover refuses what would not work, and changes nothing then.
	for _, bad := range [][]string{
		{"--data-dir", survivor.Dir, "--node-id", survivor.ID, "--peers", "n1=" + c.Nodes[0].Raft},
		{"--data-dir", survivor.Dir, "--peers", survivor.ID + "=nohostport"},
		{"--data-dir", survivor.Dir},
	} {
		if code, out := runRecoverProc(t, bad...); code != 2 {
			t.Fatalf("recover %q: exit %d, want 2\n%s", bad, code, out)
		}
	}
	code, out := runRecoverProc(t, "--data-dir", survivor.Dir, "--peers", survivor.ID+"="+survivor.Raft)
	if code != 0 {
		t.Fatalf("recover: exit %d\n%s", code, out)
	}
	c.Start(t, survivor)
	alive := []*testcluster.ProcNode{survivor}
	testcluster.WaitClientReady(t, survivor.Client, 30*time.Second)
	st, err := survivor.Client.ClusterStatus(ctx(t, 5*time.Second))
	if err != nil || st.State != "Leader" || len(st.Servers) != 1 || st.Servers[0].ID != survivor.ID {
		t.Fatalf("after recovery: %+v, %v", st, err)
	}
	waitChecksums(t, alive, sum)
	requireMappings(t, alive, cellUUID, ids)
	writeMappings(t, &testcluster.Cluster{Nodes: alive}, cellUUID, mappingIDs(2, 3))

	// The cluster grows back: a new node joins the survivor.
	fresh := &testcluster.ProcNode{ID: "n4", Dir: t.TempDir(), HTTP: testkit.FreeAddr(t), Raft: testkit.FreeAddr(t), Gossip: testkit.FreeUDPTCPAddr(t)}
	fresh.Client = client.New(fresh.HTTP, nil).WithToken(testkit.AdminToken)
	t.Cleanup(fresh.Client.Close)
	c.Start(t, fresh, "--join", c.URL(survivor))
	alive = append(alive, fresh)
	testcluster.WaitClientReady(t, fresh.Client, 30*time.Second)
	requireMappings(t, alive, cellUUID, append(ids, mappingIDs(2, 3)...))
	commonChecksum(t, alive)
}

// runRecoverProc runs cellmapd recover as a process.
func runRecoverProc(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, testcluster.Binary(t, "cellmapd"), append([]string{"recover"}, args...)...)
	cmd.WaitDelay = time.Second
	cmd.Env = []string{}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// TestPeriodicBackups: the leader writes a backup every interval while it takes writes and
// keeps the newest --backup-keep; each verifies.
func TestPeriodicBackups(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "backups")
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{Size: 1,
		Args: []string{"--backup-dir", dir, "--backup-interval", "200ms", "--backup-keep", "2"}})
	n := c.Nodes[0]
	cellUUID := seedCluster(t, &testcluster.Cluster{Nodes: []*testcluster.ProcNode{n, n}}, mappingIDs(1, 2))
	before := strings.Count(n.Proc.Output(), "backup written")
	testkit.WaitFor(t, "three more periodic backups", 60*time.Second, func() bool {
		return strings.Count(n.Proc.Output(), "backup written") >= before+3
	})
	writeMappings(t, &testcluster.Cluster{Nodes: []*testcluster.ProcNode{n}}, cellUUID, mappingIDs(2, 2))
	sum := commonChecksum(t, []*testcluster.ProcNode{n})
	testkit.WaitFor(t, "a backup with the latest writes", 60*time.Second, func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, "cellmap-*.backup"))
		if len(files) == 0 {
			return false
		}
		info, err := backup.Verify(files[len(files)-1])
		return err == nil && info.Header.FSMChecksum == sum
	})
	// A cycle writes the new backup before it prunes the oldest, so Keep+1 files exist for a
	// moment; a graceful stop lets the cycle under way finish, then Keep must hold.
	if err := n.Proc.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "cellmap-*.backup"))
	if len(files) > 2 {
		t.Fatalf("%d backups kept, want at most 2: %q", len(files), files)
	}
	for _, f := range files {
		if _, err := backup.Verify(f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
}
