package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/hashicorp/raft"
)

// singleNode starts a bootstrapped one-node cluster in dir (no HTTP listener: it needs none)
// and waits until it leads. tune changes the configuration first.
func singleNode(t *testing.T, dir string, tune func(*Config)) *Node {
	t.Helper()
	cfg := singleNodeConfig(t, dir)
	if tune != nil {
		tune(cfg)
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { n.Shutdown(context.Background()) })
	testkit.WaitFor(t, "leadership", 10*time.Second, n.IsLeader)
	return n
}

func singleNodeConfig(t *testing.T, dir string) *Config {
	cfg := DefaultConfig()
	cfg.NodeID, cfg.DataDir, cfg.RaftAddr, cfg.HTTPAddr = "s1", dir, freeAddr(t), "127.0.0.1:1"
	cfg.Bootstrap, cfg.Raft, cfg.InitialMmapSize = true, TestRaftConfig(), 1<<20
	cfg.Logger = testLogger(t, "s1")
	return cfg
}

func writeMappings(t *testing.T, n *Node, prefix string, count int) {
	t.Helper()
	for i := 0; i < count; i++ {
		res, err := n.Apply(ctxT(t), mapping(fmt.Sprintf("%s-%d", prefix, i)))
		if err != nil || res.Err != nil {
			t.Fatalf("write %d: %v %v", i, err, res)
		}
	}
}

func copyStateFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(from, stateFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(to, stateFileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestStateFileAheadOfTheLogIsSetAside: a state file that this node's raft history did not
// produce (here another cluster's, next to a fresh raft log) is ahead of the log. Serving it
// would skip this cluster's first entries; the node sets it aside and rebuilds from its log.
func TestStateFileAheadOfTheLogIsSetAside(t *testing.T) {
	other := t.TempDir()
	a := singleNode(t, other, nil)
	writeMappings(t, a, "foreign", 30)
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyStateFile(t, other, dir)

	b := singleNode(t, dir, nil)
	writeMappings(t, b, "own", 3)
	if err := b.LinearizableBarrier(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := readMapping(&testNode{Node: b}, "foreign-0"); err == nil {
		t.Fatalf("the foreign state file is served")
	}
	if _, err := readMapping(&testNode{Node: b}, "own-2"); err != nil {
		t.Fatalf("own write: %v", err)
	}
	if aside, _ := filepath.Glob(filepath.Join(dir, stateFileName+".damaged-*")); len(aside) != 1 {
		t.Fatalf("the foreign state file was not set aside: %v", aside)
	}
}

// TestMissingSnapshotRefusesToStart: a compacted log without the snapshot that covers its
// beginning cannot rebuild the state; the node must say so rather than start.
func TestMissingSnapshotRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	short := func(c *Config) { c.Raft.TrailingLogs = 4 }
	n := singleNode(t, dir, short)
	writeMappings(t, n, "m", 20)
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if first, err := n.logStore.FirstIndex(); err != nil || first <= 1 {
		t.Fatalf("log not compacted by the snapshot: first index %d, %v", first, err)
	}
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "snapshots")); err != nil {
		t.Fatal(err)
	}
	cfg := singleNodeConfig(t, dir)
	short(cfg)
	m, err := New(cfg)
	if err == nil {
		m.Shutdown(context.Background())
		t.Fatalf("started without the snapshot that covers the compacted log")
	}
	if !errors.Is(err, ErrStateGap) {
		t.Fatalf("got %v, want ErrStateGap", err)
	}
}

// TestDamagedStateFileIsRebuilt: a state file that is not a bbolt file is set aside and the
// state rebuilt from the snapshot and the log after it.
func TestDamagedStateFileIsRebuilt(t *testing.T) {
	dir := t.TempDir()
	n := singleNode(t, dir, nil)
	writeMappings(t, n, "before", 10)
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	writeMappings(t, n, "after", 10)
	_, want, err := n.fsm.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, stateFileName), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := singleNode(t, dir, nil)
	if err := m.LinearizableBarrier(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"before-9", "after-9"} {
		if _, err := readMapping(&testNode{Node: m}, id); err != nil {
			t.Fatalf("%s after the rebuild: %v", id, err)
		}
	}
	// The rebuilt state has every entry (and the leader's new no-op, which changes no data).
	if _, got, _ := m.fsm.Checksum(); got != want {
		t.Fatalf("checksum after the rebuild %s, want %s", got, want)
	}
}

// TestUncleanStateFileIsRebuilt: a state file closed cleanly is opened as it is (and, when it
// is an older clean copy, brought up by the log); one without its clean-shutdown marker (the
// node was killed, or the machine stopped, after its last write) is never served as it is,
// even though it verifies: it is rebuilt from the snapshot and the log. Every case comes back
// with every write and the same checksum.
func TestUncleanStateFileIsRebuilt(t *testing.T) {
	dir, old := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, stateFileName)
	n := singleNode(t, dir, nil)
	if got := n.StateAtStart(); got != StateNew {
		t.Fatalf("first start: state check %q, want %q", got, StateNew)
	}
	writeMappings(t, n, "before", 10)
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	writeMappings(t, n, "middle", 5)
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	copyStateFile(t, dir, old)
	copyFile(t, fsm.CleanMarkPath(path), fsm.CleanMarkPath(filepath.Join(old, stateFileName)))
	n = singleNode(t, dir, nil)
	writeMappings(t, n, "after", 10)
	_, want, err := n.fsm.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		prepare func(t *testing.T)
		want    StateCheck
	}{
		{"clean shutdown", func(*testing.T) {}, StateClean},
		{"an older copy closed cleanly", func(t *testing.T) {
			copyStateFile(t, old, dir)
			copyFile(t, fsm.CleanMarkPath(filepath.Join(old, stateFileName)), fsm.CleanMarkPath(path))
		}, StateClean},
		{"no clean-shutdown marker", func(t *testing.T) {
			// The older copy with one more entry that this log does not hold: a file that
			// verifies and is behind the log, but whose content is not the log's (as a torn
			// file can be). Served, it would keep the ghost.
			copyStateFile(t, old, dir)
			plantGhost(t, path)
			if err := os.Remove(fsm.CleanMarkPath(path)); err != nil {
				t.Fatal(err)
			}
		}, StateUnclean},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.prepare(t)
			m := singleNode(t, dir, nil)
			if got := m.StateAtStart(); got != tt.want {
				t.Fatalf("state check %q, want %q", got, tt.want)
			}
			if rebuilt := m.catchUpTo > 0; rebuilt != (tt.want != StateClean) {
				t.Fatalf("catch-up target %d after a %q start", m.catchUpTo, tt.want)
			}
			if err := m.LinearizableBarrier(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"before-9", "middle-4", "after-9"} {
				if _, err := readMapping(&testNode{Node: m}, id); err != nil {
					t.Fatalf("%s: %v", id, err)
				}
			}
			if _, err := readMapping(&testNode{Node: m}, "ghost"); err == nil {
				t.Fatalf("the unclean file's ghost entry is served")
			}
			if _, got, _ := m.fsm.Checksum(); got != want {
				t.Fatalf("checksum %s, want %s", got, want)
			}
			if err := m.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// plantGhost applies to the closed state file at path, as the entry after its last, a mapping
// "ghost" that no raft log holds.
func plantGhost(t *testing.T, path string) {
	t.Helper()
	cfg := fsm.DefaultConfig(path)
	cfg.InitialMmapSize = 1 << 20
	f, err := fsm.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res := f.Apply(&raft.Log{Index: f.AppliedIndex() + 1, Type: raft.LogCommand, Data: fsm.Encode(mapping("ghost"), time.Now().UTC())})
	if r, ok := res.(*fsm.Result); !ok || r.Err != nil {
		t.Fatalf("plant the ghost: %v", res)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestStaleReadsWhileCatchingUp: until a rebuilt state has applied everything the node's
// records held at start, a stale read is served linearizably (the node may have served those
// indexes before it stopped); afterwards it is served from the local state again.
func TestStaleReadsWhileCatchingUp(t *testing.T) {
	n := singleNode(t, t.TempDir(), nil)
	writeMappings(t, n, "m", 3)
	for _, tt := range []struct {
		name      string
		catchUpTo uint64
		want      Consistency
	}{
		{"catching up", n.AppliedIndex() + 100, Linearizable{}},
		{"caught up", n.AppliedIndex(), Stale{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n.catchUpTo = tt.catchUpTo
			info, err := n.Read(ctxT(t), Stale{}, func(*fsm.Reader) error { return nil })
			if err != nil || info.Served != tt.want {
				t.Fatalf("stale read served as %#v (%v), want %#v", info.Served, err, tt.want)
			}
		})
	}
}
