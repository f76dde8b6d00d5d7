package fsm

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// testFSM wraps an FSM with a log index counter, so a test applies commands as raft would.
type testFSM struct {
	*FSM
	t     testing.TB
	index uint64
	now   time.Time
}

func newTestFSM(t testing.TB) *testFSM {
	t.Helper()
	return openTestFSM(t, filepath.Join(t.TempDir(), "fsm.db"))
}

func openTestFSM(t testing.TB, path string) *testFSM {
	t.Helper()
	cfg := DefaultConfig(path)
	cfg.InitialMmapSize = 1 << 20
	f, err := Open(cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return &testFSM{FSM: f, t: t, index: f.AppliedIndex(), now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
}

func (f *testFSM) entry(c Command) *raft.Log {
	f.index++
	f.now = f.now.Add(time.Second)
	return &raft.Log{Index: f.index, Term: 1, Type: raft.LogCommand, Data: Encode(c, f.now)}
}

func (f *testFSM) apply(c Command) *Result {
	f.t.Helper()
	res, ok := f.Apply(f.entry(c)).(*Result)
	if !ok {
		f.t.Fatalf("apply %s: no *Result", c.Type())
	}
	return res
}

func (f *testFSM) mustApply(c Command) *Result {
	f.t.Helper()
	res := f.apply(c)
	if res.Err != nil {
		f.t.Fatalf("apply %s: %v", c.Type(), res.Err)
	}
	return res
}

func (f *testFSM) wantErr(c Command, want error) *Result {
	f.t.Helper()
	res := f.apply(c)
	if !errors.Is(res.Err, want) {
		f.t.Fatalf("apply %s: got error %v, want %v", c.Type(), res.Err, want)
	}
	return res
}

func (f *testFSM) read(fn func(r *Reader) error) {
	f.t.Helper()
	if err := f.View(fn); err != nil {
		f.t.Fatalf("view: %v", err)
	}
}

func (f *testFSM) checksum() string {
	f.t.Helper()
	_, s, err := f.Checksum()
	if err != nil {
		f.t.Fatalf("checksum: %v", err)
	}
	return s
}

const (
	cellA = "11111111-1111-1111-1111-111111111111"
	cellB = "22222222-2222-2222-2222-222222222222"
	inst1 = "aaaaaaaa-0000-0000-0000-000000000001"
	inst2 = "aaaaaaaa-0000-0000-0000-000000000002"
	inst3 = "aaaaaaaa-0000-0000-0000-000000000003"
)

func createCell(uuid, name, tu, db string) *CreateCell {
	return &CreateCell{Cell: Cell{UUID: uuid, Name: name, TransportURL: tu, DatabaseConnection: db}}
}

func putMapping(uuid, cell, project string) *Txn {
	return &Txn{Ops: []Op{{Kind: OpPut, Table: TableInstanceMappings,
		Record: &InstanceMapping{InstanceUUID: uuid, CellUUID: cell, ProjectID: project, UserID: "u"}}}}
}

func putHost(host, cell string) *Txn {
	return &Txn{Ops: []Op{{Kind: OpPut, Table: TableHostMappings, Record: &HostMapping{Host: host, CellUUID: cell}}}}
}

func strp(s string) *string { return &s }
func boolp(b bool) *bool    { return &b }

func TestCreateCell(t *testing.T) {
	f := newTestFSM(t)
	res := f.mustApply(createCell(cellA, "cell1", "rabbit://a", "mysql://a"))
	f.read(func(r *Reader) error {
		c, err := r.Cell(cellA)
		if err != nil {
			return err
		}
		if c.Name != "cell1" || c.Revision != res.Index || c.CreatedAt.IsZero() {
			t.Errorf("got %+v, want name cell1 revision %d and a creation time", c, res.Index)
		}
		return nil
	})
	f.wantErr(createCell(cellA, "again", "rabbit://x", "mysql://x"), ErrExists)
	// Either URL alone is a duplicate (Nova's quirk).
	f.wantErr(createCell(cellB, "b", "rabbit://a", "mysql://b"), ErrDuplicateURL)
	f.wantErr(createCell(cellB, "b", "rabbit://b", "mysql://a"), ErrDuplicateURL)
	f.wantErr(createCell("", "b", "rabbit://b", "mysql://b"), ErrInvalid)
	f.mustApply(createCell(cellB, "b", "rabbit://b", "mysql://b"))
}

func TestMapCell0Idempotent(t *testing.T) {
	f := newTestFSM(t)
	if res := f.mustApply(&MapCell0{DatabaseConnection: "mysql://c0"}); !res.Changed {
		t.Fatalf("first map_cell0: got Changed=false, want true")
	}
	if res := f.mustApply(&MapCell0{DatabaseConnection: "mysql://other"}); res.Changed {
		t.Fatalf("second map_cell0: got Changed=true, want false")
	}
	f.read(func(r *Reader) error {
		c, err := r.Cell(Cell0UUID)
		if err != nil {
			return err
		}
		if c.Name != Cell0Name || c.TransportURL != Cell0TransportURL || c.DatabaseConnection != "mysql://c0" || !c.IsCell0() {
			t.Errorf("got %+v, want cell0 with the first database connection", c)
		}
		return nil
	})
}

func TestUpdateCell(t *testing.T) {
	f := newTestFSM(t)
	f.mustApply(&MapCell0{DatabaseConnection: "mysql://c0"})
	f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	f.mustApply(createCell(cellB, "b", "rabbit://b", "mysql://b"))

	tests := []struct {
		name string
		cmd  *UpdateCell
		want error
	}{
		{"not found", &UpdateCell{UUID: inst1, Name: strp("x")}, ErrNotFound},
		{"duplicate transport", &UpdateCell{UUID: cellA, TransportURL: strp("rabbit://b")}, ErrDuplicateURL},
		{"duplicate db", &UpdateCell{UUID: cellA, DatabaseConnection: strp("mysql://b")}, ErrDuplicateURL},
		{"duplicate checked before cell0 flag", &UpdateCell{UUID: Cell0UUID, TransportURL: strp("rabbit://a"), Disabled: boolp(true)}, ErrDuplicateURL},
		{"cell0 disable", &UpdateCell{UUID: Cell0UUID, Disabled: boolp(true)}, ErrCell0Immutable},
		{"cell0 enable", &UpdateCell{UUID: Cell0UUID, Disabled: boolp(false)}, ErrCell0Immutable},
		{"own urls are not duplicates", &UpdateCell{UUID: cellA, TransportURL: strp("rabbit://a"), Name: strp("renamed")}, nil},
		{"disable", &UpdateCell{UUID: cellB, Disabled: boolp(true)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := f.checksum()
			res := f.apply(tc.cmd)
			if !errors.Is(res.Err, tc.want) || (tc.want == nil && res.Err != nil) {
				t.Fatalf("got %v, want %v", res.Err, tc.want)
			}
			if tc.want != nil && f.checksum() != before {
				t.Fatalf("a failed update changed the state")
			}
		})
	}
	f.read(func(r *Reader) error {
		a, _ := r.Cell(cellA)
		b, _ := r.Cell(cellB)
		if a.Name != "renamed" || !b.Disabled {
			t.Errorf("got a=%+v b=%+v, want a renamed and b disabled", a, b)
		}
		return nil
	})
	if res := f.mustApply(&UpdateCell{UUID: cellB, Disabled: boolp(true)}); res.Changed {
		t.Errorf("disabling a disabled cell: got Changed=true, want false")
	}
}

func TestDeleteCellChecks(t *testing.T) {
	f := newTestFSM(t)
	f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	f.wantErr(&DeleteCell{UUID: cellB}, ErrNotFound)

	f.mustApply(putHost("compute1", cellA))
	f.wantErr(&DeleteCell{UUID: cellA}, ErrHostsMapped)

	f.mustApply(putMapping(inst1, cellA, "p1"))
	f.wantErr(&DeleteCell{UUID: cellA, Force: true}, ErrInstancesExist)

	f.mustApply(&Txn{Ops: []Op{{Kind: OpPut, Table: TableInstanceMappings,
		Record: &InstanceMapping{InstanceUUID: inst1, CellUUID: cellA, ProjectID: "p1", QueuedForDelete: true}}}})
	f.mustApply(&Txn{Ops: []Op{{Kind: OpDelete, Table: TableHostMappings, Key: "compute1"}}})
	f.wantErr(&DeleteCell{UUID: cellA}, ErrDeletedInstancesMapped)

	// The cell database says no instance is alive: a stale queued_for_delete=false no longer counts.
	f.mustApply(putMapping(inst2, cellA, "p2"))
	f.wantErr(&DeleteCell{UUID: cellA}, ErrInstancesExist)
	f.wantErr(&DeleteCell{UUID: cellA, NoLiveInstances: true}, ErrDeletedInstancesMapped)

	f.mustApply(putHost("compute1", cellA))
	f.mustApply(&Txn{Ops: []Op{{Kind: OpPut, Table: TableMapMarkers, Record: &MapMarker{CellUUID: cellA, Marker: inst2}}}})
	f.mustApply(&DeleteCell{UUID: cellA, Force: true, NoLiveInstances: true})
	f.read(func(r *Reader) error {
		for _, err := range []error{
			func() error { _, err := r.Cell(cellA); return err }(),
			func() error { _, err := r.HostMapping("compute1"); return err }(),
			func() error { _, err := r.InstanceMapping(inst1); return err }(),
			func() error { _, err := r.MapMarker(cellA); return err }(),
		} {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("after forced delete: got %v, want not found", err)
			}
		}
		return nil
	})
}

func TestFlavors(t *testing.T) {
	f := newTestFSM(t)
	fl := Flavor{ID: "1", Name: "m1.tiny", VCPUs: 1, RAMMB: 512, DiskGB: 1, ExtraSpecs: map[string]string{"hw:cpu_policy": "dedicated"}}
	f.mustApply(&PutFlavor{Flavor: fl})
	f.wantErr(&PutFlavor{Flavor: fl}, ErrExists)
	f.wantErr(&PutFlavor{Flavor: Flavor{Name: "noid"}}, ErrInvalid)
	f.read(func(r *Reader) error {
		got, err := r.Flavor("1")
		if err != nil {
			return err
		}
		if got.ExtraSpecs["hw:cpu_policy"] != "dedicated" || got.RAMMB != 512 {
			t.Errorf("got %+v, want the stored flavor", got)
		}
		return nil
	})
	f.mustApply(&DeleteFlavor{ID: "1"})
	f.wantErr(&DeleteFlavor{ID: "1"}, ErrNotFound)
}

func TestNoopAdvancesAppliedIndex(t *testing.T) {
	f := newTestFSM(t)
	res := f.mustApply(&Noop{})
	if f.AppliedIndex() != res.Index {
		t.Fatalf("got applied %d, want %d", f.AppliedIndex(), res.Index)
	}
}
