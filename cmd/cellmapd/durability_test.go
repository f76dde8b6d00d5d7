package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	bolt "go.etcd.io/bbolt"
)

// The durability tests run three real cellmapd processes (raft profile test, fsync on) and
// check that no acknowledged create is lost when every node is killed with SIGKILL, and that
// a node whose state file is behind its log, or damaged, comes back with the cluster's state.

// startThree starts a bootstrapped three-node cluster and waits for three voters and a leader.
func startThree(t *testing.T) []*proc {
	t.Helper()
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
	leaderOf(t, procs)
	return procs
}

// acks records the instance mappings whose creation was acknowledged.
type acks struct {
	next atomic.Int64 // last uuid number handed out
	mu   sync.Mutex
	ids  []string
}

func (a *acks) add(id string) {
	a.mu.Lock()
	a.ids = append(a.ids, id)
	a.mu.Unlock()
}

func (a *acks) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ids)
}

func (a *acks) all() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.ids...)
}

// createLoad runs writers creating new instance mappings (If-None-Match: *) round-robin over
// the nodes, each at most perWriter attempts, until ctx ends. Acknowledged creates go to a.
// The returned function waits for the writers to return.
func createLoad(ctx context.Context, procs []*proc, a *acks, writers, perWriter int) (wait func()) {
	clients := make([]*client.Client, len(procs))
	for i, pr := range procs {
		clients[i] = client.New(pr.http, nil).WithToken(testkit.AdminToken)
	}
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter && ctx.Err() == nil; i++ {
				id := uuidN(int(a.next.Add(1)))
				wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				_, _, err := clients[(w+i)%len(clients)].PutInstanceMapping(wctx, id, mapping("dur"), client.Condition{IfAbsent: true})
				cancel()
				if err == nil {
					a.add(id)
				}
			}
		}(w)
	}
	return func() {
		wg.Wait()
		for _, c := range clients {
			c.Close()
		}
	}
}

// writeN creates n more acknowledged mappings (through every node) and waits for them.
func writeN(t *testing.T, procs []*proc, a *acks, n int) {
	t.Helper()
	target := a.count() + n
	lctx, cancel := context.WithCancel(context.Background())
	wait := createLoad(lctx, procs, a, 4, n)
	testkit.WaitFor(t, fmt.Sprintf("%d acknowledged creates", target), 60*time.Second, func() bool { return a.count() >= target })
	cancel()
	wait()
}

// waitSameChecksum waits until every node reports the same applied index and state checksum.
func waitSameChecksum(t *testing.T, procs []*proc) string {
	t.Helper()
	var sum string
	testkit.WaitFor(t, "equal state checksums on all nodes", 60*time.Second, func() bool {
		var sums []string
		for _, pr := range procs {
			if pr.p.Exited() {
				t.Fatalf("%s exited while the others wait for it", pr.id)
			}
			st, err := pr.c.ClusterStatus(ctx(t, time.Second))
			if err != nil {
				return false
			}
			sums = append(sums, fmt.Sprintf("%d/%s", st.FSMChecksumIdx, st.FSMChecksum))
		}
		sum = sums[0]
		for _, s := range sums[1:] {
			if s != sum {
				return false
			}
		}
		return true
	})
	return sum
}

// checkAcked reads every acknowledged mapping linearizably (spread over the nodes), then from
// pr's local state (a stale read), so pr's own state file is the one that must hold them.
func checkAcked(t *testing.T, procs []*proc, pr *proc, ids []string) {
	t.Helper()
	for i, id := range ids {
		c := procs[i%len(procs)].c
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		m, _, err := c.InstanceMapping(rctx, id)
		cancel()
		if err != nil || m.ProjectID != "dur" {
			t.Fatalf("acknowledged create %s: linearizable read on %s: %+v, %v", id, c.Addr(), m, err)
		}
	}
	for _, id := range ids {
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		m, _, err := pr.c.InstanceMapping(rctx, id, client.Stale(0))
		cancel()
		if err != nil || m.ProjectID != "dur" {
			t.Fatalf("acknowledged create %s: stale read on %s: %+v, %v", id, pr.id, m, err)
		}
	}
}

// TestKillAllNodesUnderCreateLoad kills every node with SIGKILL while clients create mappings,
// restarts them, and repeats; afterwards every acknowledged create is readable and all nodes
// reach the same state checksum.
func TestKillAllNodesUnderCreateLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	procs := startThree(t)
	a := &acks{}
	const rounds = 5
	for round := 1; round <= rounds; round++ {
		target := a.count() + 100
		lctx, cancel := context.WithCancel(context.Background())
		wait := createLoad(lctx, procs, a, 6, 200)
		testkit.WaitFor(t, fmt.Sprintf("round %d: %d acknowledged creates", round, target), 60*time.Second,
			func() bool { return a.count() >= target })
		// Writes are in flight: kill every node at once.
		for _, pr := range procs {
			pr.p.Kill()
		}
		cancel()
		wait()
		for _, pr := range procs {
			startProc(t, pr)
		}
		leaderOf(t, procs)
		t.Logf("round %d: %d creates acknowledged so far", round, a.count())
	}
	ids := a.all()
	checkAcked(t, procs, procs[0], ids)
	waitSameChecksum(t, procs)
	for _, pr := range procs[1:] {
		checkAcked(t, procs[:1], pr, ids)
	}
}

// follower returns a node that is not the leader.
func follower(t *testing.T, procs []*proc) *proc {
	t.Helper()
	leader := leaderOf(t, procs)
	for _, pr := range procs {
		if pr != leader {
			return pr
		}
	}
	t.Fatal("no follower")
	return nil
}

// appliedIndex is the state index pr reports.
func appliedIndex(t *testing.T, pr *proc) uint64 {
	t.Helper()
	st, err := pr.c.ClusterStatus(ctx(t, 5*time.Second))
	if err != nil {
		t.Fatalf("status of %s: %v", pr.id, err)
	}
	return st.FSMChecksumIdx
}

// newestSnapshot is the index of the newest raft snapshot in pr's data directory (0: none).
func newestSnapshot(pr *proc) uint64 {
	metas, _ := filepath.Glob(filepath.Join(pr.dir, "snapshots", "*", "meta.json"))
	var newest uint64
	for _, m := range metas {
		b, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		var meta struct{ Index uint64 }
		if json.Unmarshal(b, &meta) == nil && meta.Index > newest {
			newest = meta.Index
		}
	}
	return newest
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestStartOnOldStateFile starts a node on a copy of its state file taken earlier: once when
// its log still holds every entry after the copy, once when a snapshot newer than the copy has
// compacted its log. The node must come back with the cluster's checksum and every
// acknowledged create in its own state.
func TestStartOnOldStateFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	procs := startThree(t)
	a := &acks{}
	writeN(t, procs, a, 100)
	f := follower(t, procs)
	stateFile := filepath.Join(f.dir, "fsm.db")
	for _, tc := range []struct {
		name  string
		after int  // creates written after the copy
		snap  bool // wait for f to take a snapshot newer than the copy
	}{
		{"behind the log", 100, false},
		{"behind a snapshot", 1200, true},
	} {
		t.Logf("%s: copying %s's state file at index %d", tc.name, f.id, appliedIndex(t, f))
		waitSameChecksum(t, procs)
		copied := appliedIndex(t, f)
		f.p.Kill()
		copyFile(t, stateFile, stateFile+".old")
		startProc(t, f)
		writeN(t, procs, a, tc.after)
		if tc.snap {
			testkit.WaitFor(t, f.id+" snapshot newer than the copy", 60*time.Second, func() bool {
				return newestSnapshot(f) > copied+100
			})
		}
		waitSameChecksum(t, procs)
		f.p.Kill()
		if err := os.Rename(stateFile+".old", stateFile); err != nil {
			t.Fatal(err)
		}
		startProc(t, f)
		waitSameChecksum(t, procs)
		checkAcked(t, procs, f, a.all())
	}
}

// zeroDataPage overwrites with zeros one leaf page of the bbolt file at path that holds the
// key of one of ids, picked from the middle of the file. It returns the page id.
func zeroDataPage(t *testing.T, path string, ids []string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatal(err)
	}
	pageSize := db.Info().PageSize
	var candidates []int
	err = db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			info, err := tx.Page(id)
			if err != nil {
				return err
			}
			if info == nil {
				return nil
			}
			if info.Type == "leaf" && info.Count > 0 {
				candidates = append(candidates, id)
			}
		}
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pages []int
	for _, id := range candidates {
		page := raw[id*pageSize : (id+1)*pageSize]
		for _, key := range ids {
			if bytes.Contains(page, []byte(key)) {
				pages = append(pages, id)
				break
			}
		}
	}
	if len(pages) == 0 {
		t.Fatalf("no leaf page of %s holds a mapping (%d leaf pages)", path, len(candidates))
	}
	id := pages[len(pages)/2]
	fh, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.WriteAt(make([]byte, pageSize), int64(id*pageSize)); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestStartOnDamagedStateFile zeroes a data page of a stopped node's state file. The node must
// detect it at start, set the file aside, rebuild its state from its snapshot and log (or the
// leader), and come back with the cluster's checksum and every acknowledged create.
func TestStartOnDamagedStateFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	procs := startThree(t)
	a := &acks{}
	writeN(t, procs, a, 1500)
	f := follower(t, procs)
	waitSameChecksum(t, procs)
	f.p.Kill()
	stateFile := filepath.Join(f.dir, "fsm.db")
	page := zeroDataPage(t, stateFile, a.all())
	t.Logf("zeroed page %d of %s", page, stateFile)
	writeN(t, procs, a, 100)
	startProc(t, f)
	waitSameChecksum(t, procs)
	checkAcked(t, procs, f, a.all())
	if aside, _ := filepath.Glob(stateFile + ".damaged-*"); len(aside) != 1 {
		t.Fatalf("the damaged state file was not set aside: %v", aside)
	}
}
