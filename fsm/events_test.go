package fsm

import (
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

// evLine is an event in a form tests compare.
type evLine struct {
	Rev  uint64
	Sub  uint32
	Kind string
	Op   string
	Key  string
	Cell string
}

func (f *testFSM) events(since uint64) []evLine {
	f.t.Helper()
	var out []evLine
	f.read(func(r *Reader) error {
		return r.Events(since, func(ev *Event) (bool, error) {
			l := evLine{Rev: ev.Revision, Sub: ev.Sub, Kind: ev.Kind, Op: ev.Op.String(), Key: ev.Key}
			if m, ok := ev.Record.(*InstanceMapping); ok {
				l.Cell = m.CellUUID
			}
			out = append(out, l)
			return true, nil
		})
	})
	return out
}

func (f *testFSM) compacted() uint64 {
	var c uint64
	f.read(func(r *Reader) error { c = r.Compacted(); return nil })
	return c
}

func openRetention(t *testing.T, path string, keep Retention) *testFSM {
	t.Helper()
	cfg := DefaultConfig(path)
	cfg.InitialMmapSize = 1 << 20
	cfg.Retention = keep
	f, err := Open(cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return &testFSM{FSM: f, t: t, now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
}

// A scripted sequence of writes yields exactly one event per changed record, in apply order,
// numbered by raft index and sub-index; failed commands and unwatched tables yield none.
func TestEventsRecordEveryChange(t *testing.T) {
	f := newTestFSM(t)
	r1 := f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a")).Index
	r2 := f.mustApply(putMapping(inst1, cellA, "p1")).Index
	f.wantErr(putMapping(inst1, "no-such-cell", "p1"), ErrUnknownCell)
	r4 := f.mustApply(&Txn{Ops: []Op{
		{Kind: OpPut, Table: TableInstanceMappings, Record: &InstanceMapping{InstanceUUID: inst2, CellUUID: cellA, ProjectID: "p2"}},
		{Kind: OpPut, Table: TableBuildRequests, Record: &ServerRequest{InstanceUUID: inst2}},
		{Kind: OpPut, Table: TableHostMappings, Record: &HostMapping{Host: "h1", CellUUID: cellA}},
	}}).Index
	r5 := f.mustApply(&Txn{Ops: []Op{{Kind: OpDelete, Table: TableInstanceMappings, Key: inst1}}}).Index
	f.mustApply(&Noop{})

	want := []evLine{
		{r1, 0, "cells", "put", cellA, ""},
		{r2, 0, "instance_mappings", "put", inst1, cellA},
		{r4, 0, "instance_mappings", "put", inst2, cellA},
		{r4, 1, "host_mappings", "put", "h1", ""},
		// A delete carries the record as it was.
		{r5, 0, "instance_mappings", "delete", inst1, cellA},
	}
	if got := f.events(0); !reflect.DeepEqual(got, want) {
		t.Fatalf("events:\n got %+v\nwant %+v", got, want)
	}
	if got := f.events(r4); !reflect.DeepEqual(got, want[4:]) {
		t.Fatalf("events after %d: got %+v, want %+v", r4, got, want[4:])
	}
	if c := f.compacted(); c != 0 {
		t.Fatalf("compacted: got %d, want 0 for a fresh file", c)
	}
}

// Pruning keeps the newest MaxEvents events and moves Compacted to the newest pruned revision.
func TestEventsPruneByCount(t *testing.T) {
	f := openRetention(t, filepath.Join(t.TempDir(), "fsm.db"), Retention{MaxEvents: 3, MaxAge: 24 * time.Hour})
	f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	var revs []uint64
	for i := range 5 {
		revs = append(revs, f.mustApply(putMapping(fmt.Sprintf("aaaaaaaa-0000-0000-0000-%012d", i), cellA, "p")).Index)
	}
	got := f.events(0)
	if len(got) != 3 || got[0].Rev != revs[2] || got[2].Rev != revs[4] {
		t.Fatalf("events: got %+v, want the last 3 of %v", got, revs)
	}
	if c := f.compacted(); c != revs[1] {
		t.Fatalf("compacted: got %d, want %d", c, revs[1])
	}
}

// Age is measured against the time carried by the entry, never the local clock: entries
// stamped in 2026 keep their events however long ago that is, and an entry an hour later
// prunes every event older than the retention.
func TestEventsPruneByAgeUsesEntryTime(t *testing.T) {
	f := openRetention(t, filepath.Join(t.TempDir(), "fsm.db"), Retention{MaxEvents: 100, MaxAge: time.Minute})
	f.now = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	r1 := f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a")).Index
	r2 := f.mustApply(putMapping(inst1, cellA, "p1")).Index
	if got := f.events(0); len(got) != 2 {
		t.Fatalf("events before expiry: got %+v, want 2 (the local clock must not prune)", got)
	}
	f.now = f.now.Add(time.Hour)
	f.mustApply(&Noop{})
	if got := f.events(0); len(got) != 0 {
		t.Fatalf("events an hour later: got %+v, want none", got)
	}
	if c := f.compacted(); c != r2 || r1 >= r2 {
		t.Fatalf("compacted: got %d, want %d", c, r2)
	}
}

// Replicas apply the same entries in different batches (leader, follower, restart): their
// histories must be equal.
func TestEventsIndependentOfBatching(t *testing.T) {
	keep := Retention{MaxEvents: 4, MaxAge: 30 * time.Second}
	gen := openRetention(t, filepath.Join(t.TempDir(), "gen.db"), keep)
	var logs []*raft.Log
	add := func(c Command) { logs = append(logs, gen.entry(c)) }
	add(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	add(createCell(cellB, "b", "rabbit://b", "mysql://b"))
	for i := range 12 {
		add(putMapping(fmt.Sprintf("aaaaaaaa-0000-0000-0000-%012d", i), []string{cellA, cellB}[i%2], "p"))
		if i%5 == 0 {
			gen.now = gen.now.Add(20 * time.Second)
		}
	}
	one := openRetention(t, filepath.Join(t.TempDir(), "one.db"), keep)
	for _, l := range logs {
		one.Apply(l)
	}
	batched := openRetention(t, filepath.Join(t.TempDir(), "batched.db"), keep)
	batched.ApplyBatch(logs[:5])
	batched.ApplyBatch(logs[5:])
	if a, b := one.events(0), batched.events(0); !reflect.DeepEqual(a, b) || len(a) == 0 {
		t.Fatalf("histories differ:\n one by one %+v\n   batched %+v", a, b)
	}
	if a, b := one.compacted(), batched.compacted(); a != b || a == 0 {
		t.Fatalf("compacted differ: %d vs %d", a, b)
	}
}

// The history is part of the state file, so a snapshot carries it.
func TestEventsSurviveSnapshotRestore(t *testing.T) {
	src := newTestFSM(t)
	for _, l := range populate(src) {
		src.Apply(l)
	}
	snap, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	dst := newTestFSM(t)
	if err := dst.Restore(io.NopCloser(&sink)); err != nil {
		t.Fatal(err)
	}
	want := src.events(0)
	if got := dst.events(0); !reflect.DeepEqual(got, want) || len(want) == 0 {
		t.Fatalf("events after restore:\n got %+v\nwant %+v", got, want)
	}
}

// A state file written before the history existed cannot serve the entries it applied then:
// it opens compacted up to its applied index.
func TestEventsUpgradedFileIsCompacted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fsm.db")
	f := openTestFSM(t, path)
	f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	applied := f.AppliedIndex()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketEvents); err != nil {
			return err
		}
		for _, k := range [][]byte{keyEventsCount, keyEventsCompacted} {
			if err := tx.Bucket(bucketMeta).Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := db.Close(); err != nil || cerr != nil {
		t.Fatal(err, cerr)
	}
	g := openTestFSM(t, path)
	if c := g.compacted(); c != applied {
		t.Fatalf("compacted: got %d, want the applied index %d", c, applied)
	}
	if got := g.events(0); len(got) != 0 {
		t.Fatalf("events: got %+v, want none", got)
	}
}

// The modification index of a kind moves only with writes of that kind, survives a reopen,
// and Changed is closed by the apply that moves it.
func TestModifiedIndexes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fsm.db")
	f := openTestFSM(t, path)
	rc := f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a")).Index
	ch := f.Changed()
	select {
	case <-ch:
		t.Fatal("Changed closed before any apply")
	default:
	}
	rm := f.mustApply(putMapping(inst1, cellA, "p1")).Index
	select {
	case <-ch:
	default:
		t.Fatal("Changed not closed by an apply")
	}
	f.mustApply(&Noop{})
	f.wantErr(putMapping(inst2, "no-such-cell", "p1"), ErrUnknownCell)
	check := func(f *testFSM) {
		t.Helper()
		for kind, want := range map[string]uint64{"cells": rc, "instance_mappings": rm, "host_mappings": 0, "flavors": 0} {
			if got := f.Modified(kind); got != want {
				t.Errorf("Modified(%s): got %d, want %d", kind, got, want)
			}
		}
	}
	check(f)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	check(openTestFSM(t, path))
}
