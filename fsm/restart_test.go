package fsm

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func populate(f *testFSM) []*raft.Log {
	var logs []*raft.Log
	add := func(c Command) { logs = append(logs, f.entry(c)) }
	add(&MapCell0{DatabaseConnection: "mysql://c0"})
	add(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	add(putHost("h1", cellA))
	add(putMapping(inst1, cellA, "p1"))
	add(putMapping(inst2, cellA, "p2"))
	add(&PutFlavor{Flavor: Flavor{ID: "1", Name: "tiny", VCPUs: 1}})
	add(&Txn{Ops: []Op{{Kind: OpDelete, Table: TableInstanceMappings, Key: inst2}}})
	add(&UpdateCell{UUID: cellA, Name: strp("renamed")})
	return logs
}

func TestReplayAfterRestartIsSkipped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fsm.db")
	f := openTestFSM(t, path)
	logs := populate(f)
	// The whole batch lands in one transaction.
	results := f.ApplyBatch(logs)
	if len(results) != len(logs) {
		t.Fatalf("got %d results, want %d", len(results), len(logs))
	}
	for i, r := range results {
		if res := r.(*Result); res.Err != nil {
			t.Fatalf("entry %d: %v", i, res.Err)
		}
	}
	want := f.checksum()
	applied := f.AppliedIndex()
	f.Close()

	// After a restart raft replays the log from the last snapshot: nothing may apply twice
	// (the replayed create_cell would otherwise fail and the delete would hit a missing key).
	g := openTestFSM(t, path)
	if g.AppliedIndex() != applied {
		t.Fatalf("applied after reopen: got %d, want %d", g.AppliedIndex(), applied)
	}
	for i, r := range g.ApplyBatch(logs) {
		if r != nil {
			t.Fatalf("replayed entry %d returned %v, want it skipped", i, r)
		}
	}
	if got := g.checksum(); got != want {
		t.Fatalf("checksum after replay: got %s, want %s", got, want)
	}
	g.index = applied
	g.mustApply(&Noop{})
	if g.AppliedIndex() != applied+1 {
		t.Fatalf("new entry after replay: applied %d, want %d", g.AppliedIndex(), applied+1)
	}
}

func TestConfigurationEntryAdvancesIndex(t *testing.T) {
	f := newTestFSM(t)
	out := f.ApplyBatch([]*raft.Log{{Index: 7, Type: raft.LogConfiguration}})
	if out[0] != nil || f.AppliedIndex() != 7 {
		t.Fatalf("got result %v applied %d, want nil and 7", out[0], f.AppliedIndex())
	}
}

type memSink struct {
	bytes.Buffer
	cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }
func (s *memSink) Close() error  { return nil }

func TestSnapshotRestore(t *testing.T) {
	src := newTestFSM(t)
	for _, l := range populate(src) {
		src.Apply(l)
	}
	snap, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// Writes after the snapshot began must not leak into it.
	src.mustApply(putMapping(inst3, cellA, "p3"))
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()

	dst := newTestFSM(t)
	dst.mustApply(createCell(cellB, "junk", "rabbit://junk", "mysql://junk"))
	if err := dst.Restore(io.NopCloser(&sink)); err != nil {
		t.Fatal(err)
	}
	if dst.AppliedIndex() != src.AppliedIndex()-1 {
		t.Fatalf("applied after restore: got %d, want %d", dst.AppliedIndex(), src.AppliedIndex()-1)
	}
	dst.read(func(r *Reader) error {
		if _, err := r.Cell(cellB); err == nil {
			t.Errorf("state from before the restore survived it")
		}
		if _, err := r.InstanceMapping(inst3); err == nil {
			t.Errorf("write made after the snapshot began is in it")
		}
		return nil
	})
	// Same entries, same contents: apply the missing one and compare checksums.
	dst.index = dst.AppliedIndex()
	dst.now = src.now
	dst.FSM.Apply(&raft.Log{Index: src.AppliedIndex(), Type: raft.LogCommand,
		Data: Encode(putMapping(inst3, cellA, "p3"), src.now)})
	if got, want := dst.checksum(), src.checksum(); got != want {
		t.Fatalf("checksum after restore: got %s, want %s", got, want)
	}
}

func TestWaitApplied(t *testing.T) {
	f := newTestFSM(t)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		done <- f.WaitApplied(ctx, 2)
	}()
	f.mustApply(&Noop{})
	f.mustApply(&Noop{})
	if err := <-done; err != nil {
		t.Fatalf("wait: %v", err)
	}
	ctx, cancel := contextWithTimeout(10 * time.Millisecond)
	defer cancel()
	if err := f.WaitApplied(ctx, 100); err == nil {
		t.Fatalf("waiting for an index that never comes: got nil, want a timeout")
	}
}

// TestRunningChecksumMatchesAFullScan checks the checksum Apply keeps against one computed from
// scratch, after puts, updates, deletes and a forced cell delete.
func TestRunningChecksumMatchesAFullScan(t *testing.T) {
	f := newTestFSM(t)
	for _, l := range populate(f) {
		f.Apply(l)
	}
	f.mustApply(&Txn{Ops: []Op{{Kind: OpPut, Table: TableInstanceMappings,
		Record: &InstanceMapping{InstanceUUID: inst1, CellUUID: cellA, ProjectID: "moved", QueuedForDelete: true}}}})
	f.mustApply(&DeleteCell{UUID: cellA, Force: true, NoLiveInstances: true})
	f.mustApply(&DeleteFlavor{ID: "1"})
	f.read(func(r *Reader) error {
		running, ok := readChecksum(r.tx)
		full, err := computeChecksum(r.tx)
		if !ok || err != nil || running != full {
			t.Fatalf("running checksum %016x, full scan %016x (%v)", running, full, err)
		}
		return nil
	})
}
