package fsm

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

func TestCommandRoundTrip(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	spec := ServerSpec{Name: "vm", ProjectID: "p", UserID: "u", ImageRef: "i", AvailabilityZone: "az",
		Flavor: Flavor{ID: "f", VCPUs: 2, ExtraSpecs: map[string]string{"a": "b", "c": "d"}}, Metadata: map[string]string{"k": "v"}}
	cmds := []Command{
		&Noop{},
		createCell(cellA, "n", "t", "d"),
		&UpdateCell{UUID: cellA, Name: strp("x"), DatabaseConnection: strp(""), Disabled: boolp(false)},
		&UpdateCell{UUID: cellA},
		&DeleteCell{UUID: cellA, Force: true, NoLiveInstances: true},
		&MapCell0{DatabaseConnection: "d"},
		&PutFlavor{Flavor: Flavor{ID: "1", Name: "n", VCPUs: 1, RAMMB: 2, DiskGB: 3, ExtraSpecs: map[string]string{"x": "y"}}},
		&DeleteFlavor{ID: "1"},
		&Txn{Ops: []Op{
			{Kind: OpPut, Table: TableInstanceMappings, Record: &InstanceMapping{InstanceUUID: inst1, CellUUID: cellA, ProjectID: "p", QueuedForDelete: true}, IfRevision: 9},
			{Kind: OpDelete, Table: TableHostMappings, Key: "h", IfCell: cellA},
			{Kind: OpCheck, Table: TableBuildRequests, Key: inst1, IfAbsent: true},
			{Kind: OpPutIfAbsent, Table: TableRequestSpecs, Record: &ServerRequest{InstanceUUID: inst1, Spec: spec}},
			{Kind: OpPut, Table: TableCell0Instances, Record: &Cell0Instance{InstanceUUID: inst1, Spec: spec, Status: "ERROR", Fault: "no valid host"}},
			{Kind: OpPut, Table: TableBuildRequests, Record: &ServerRequest{InstanceUUID: inst1, Spec: spec}},
			{Kind: OpPut, Table: TableMapMarkers, Record: &MapMarker{CellUUID: cellA, Marker: inst1}},
		}},
	}
	for _, c := range cmds {
		t.Run(c.Type().String(), func(t *testing.T) {
			got, gotNow, err := Decode(Encode(c, now))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !gotNow.Equal(now) || !reflect.DeepEqual(got, c) {
				t.Fatalf("got %#v at %v, want %#v at %v", got, gotNow, c, now)
			}
		})
	}
}

func TestDecodeRejectsBadEntries(t *testing.T) {
	good := Encode(createCell(cellA, "n", "t", "d"), time.Now())
	tests := map[string][]byte{
		"empty":        nil,
		"unknown type": {0xEE, 0},
		"truncated":    good[:len(good)-3],
		"trailing":     append(append([]byte{}, good...), 1, 2),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if _, _, err := Decode(b); err == nil {
				t.Fatalf("got nil error, want one")
			}
		})
	}
}

func TestApplyPanicsOnUndecodableEntry(t *testing.T) {
	f := newTestFSM(t)
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(strings.ToLower(strings.TrimSpace(toString(r))), "unknown type") {
			t.Fatalf("got panic %v, want one about the unknown type", r)
		}
		if f.AppliedIndex() != 0 {
			t.Fatalf("applied index moved to %d on a poisoned batch", f.AppliedIndex())
		}
	}()
	f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: []byte{0xEE}})
}

func toString(v any) string {
	if err, ok := v.(error); ok {
		return err.Error()
	}
	return ""
}

// FuzzDecode feeds arbitrary entries to the decoder a leader runs on forwarded entries: it
// never panics, refuses what it cannot read, and what it accepts re-encodes to the same
// command (in the layout of its log version).
func FuzzDecode(f *testing.F) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	f.Add(Encode(&Txn{Ops: []Op{{Kind: OpDelete, Table: TableHostMappings, Key: "h"}}}, now))
	f.Add(Encode(createCell(cellA, "n", "t", "d"), now))
	f.Add(Encode(putMapping(inst1, cellA, "p"), now))
	f.Add([]byte{0x63})
	f.Add([]byte{versionedEntry, 1, byte(CmdNoop), 0})
	f.Add([]byte{versionedEntry, LogVersion + 1, byte(CmdNoop), 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, now, err := Decode(b)
		if err != nil {
			if _, verr := DecodeValid(b); verr == nil {
				t.Fatalf("DecodeValid accepted an entry Decode refuses: %v", err)
			}
			return
		}
		if verr := c.Validate(); verr != nil && !errors.Is(verr, ErrInvalid) {
			t.Fatalf("validation failed with %v, want ErrInvalid", verr)
		}
		again, _, err := Decode(Encode(c, now))
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("re-encoding a decoded command changed it: %v", err)
		}
	})
}

func TestRecordRoundTripAcrossNodes(t *testing.T) {
	recs := []Record{
		&Cell{UUID: cellA, Name: "a", Revision: 3},
		&Flavor{ID: "1", ExtraSpecs: map[string]string{"k": "v"}},
		&HostMapping{Host: "h", CellUUID: cellA},
		&InstanceMapping{InstanceUUID: inst1, ProjectID: "p", QueuedForDelete: true},
		&MapMarker{CellUUID: cellA, Marker: inst1},
	}
	for _, r := range recs {
		kind, data := EncodeRecord(r)
		got, err := DecodeRecord(kind, data)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("%s: got %#v (%v), want %#v", kind, got, err, r)
		}
	}
	if _, err := DecodeRecord("nope", nil); err == nil {
		t.Fatalf("unknown kind: got nil error")
	}
}

func TestResultCarriesTheWrittenRecord(t *testing.T) {
	f := newTestFSM(t)
	res := f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	if c, ok := res.Record.(*Cell); !ok || c.Revision != res.Index {
		t.Fatalf("create cell: got record %#v, want the stamped cell", res.Record)
	}
	res = f.mustApply(putMapping(inst1, cellA, "p"))
	if m, ok := res.Record.(*InstanceMapping); !ok || m.Revision != res.Index || m.CreatedAt.IsZero() {
		t.Fatalf("put mapping: got %#v, want the stamped mapping", res.Record)
	}
	if res := f.mustApply(&MapCell0{}); res.Record == nil {
		t.Fatalf("map cell0: no record")
	}
	res = f.mustApply(&Txn{Ops: []Op{{Kind: OpDelete, Table: TableInstanceMappings, Key: inst1}}})
	if res.Record != nil {
		t.Fatalf("delete: got record %#v, want none", res.Record)
	}
}

// TestLogVersions: entries written before log versions existed (type byte first) decode as
// version 1; the versioned layout decodes up to LogVersion and is refused beyond it with
// ErrUnsupportedVersion; version 1 commands are still written in the original layout, so
// older releases read what this one writes.
func TestLogVersions(t *testing.T) {
	// A create_cell entry as written by the releases before log versions (golden bytes).
	legacy := []byte{byte(CmdCreateCell), 0x00, 0x24}
	legacy = append(legacy, cellA...)
	legacy = append(legacy, 1, 'n', 1, 't', 1, 'd', 0, 0, 0, 0)
	c, _, err := Decode(legacy)
	if err != nil {
		t.Fatalf("legacy entry: %v", err)
	}
	if cc, ok := c.(*CreateCell); !ok || cc.Cell.UUID != cellA || cc.Cell.Name != "n" {
		t.Fatalf("legacy entry: got %#v", c)
	}
	if got := Encode(c, time.Time{}); string(got) != string(legacy) {
		t.Fatalf("a version 1 command is encoded as %x, want the original layout %x", got, legacy)
	}
	if Version(c) != 1 {
		t.Fatalf("create_cell has log version %d, want 1", Version(c))
	}
	tests := []struct {
		name    string
		entry   []byte
		wantErr error // nil: decodes
	}{
		{"versioned, version 1", []byte{versionedEntry, 1, byte(CmdNoop), 0}, nil},
		{"versioned, newer version", []byte{versionedEntry, LogVersion + 1, byte(CmdNoop), 0}, ErrUnsupportedVersion},
		{"versioned, huge version", []byte{versionedEntry, 0xff, 0xff, 0xff, 0xff, 0x0f, byte(CmdNoop), 0}, ErrUnsupportedVersion},
		{"versioned, version 0", []byte{versionedEntry, 0, byte(CmdNoop), 0}, errAny},
		{"versioned, no version", []byte{versionedEntry}, errAny},
		{"versioned, unknown type", []byte{versionedEntry, 1, 99, 0}, errAny},
		{"legacy, unknown type", []byte{99, 0}, errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Decode(tc.entry)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("got %v, want it decoded", err)
			case tc.wantErr != nil && err == nil:
				t.Fatalf("decoded, want an error")
			case tc.wantErr == ErrUnsupportedVersion && !errors.Is(err, ErrUnsupportedVersion):
				t.Fatalf("got %v, want ErrUnsupportedVersion", err)
			case tc.wantErr == errAny && errors.Is(err, ErrUnsupportedVersion):
				t.Fatalf("got %v, want a plain decode error", err)
			}
		})
	}
}

// TestDecodeAllocatesAboutWhatItReads: a forwarded entry is decoded before it is checked, so
// the decoder must not size anything by a count the entry declares: a transaction declaring
// a million ops (or a map a million items) in 1 MB of garbage used to allocate ~70 MB up front.
func TestDecodeAllocatesAboutWhatItReads(t *testing.T) {
	garbage := bytes.Repeat([]byte{0xff}, 1<<20)
	count := binary.AppendUvarint(nil, 1<<20)
	txn := append(append([]byte{byte(CmdTxn), 0}, count...), garbage...)
	// A put_flavor whose extra specs declare a million items.
	flavor := []byte{byte(CmdPutFlavor), 0, 1, 'i', 1, 'n', 2, 2, 2}
	flavor = append(append(flavor, count...), garbage...)
	for name, entry := range map[string][]byte{"txn ops": txn, "map items": flavor} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := Decode(entry)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Fatalf("%s: garbage decoded", name)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
			t.Errorf("%s: decoding %d bytes allocated %d bytes", name, len(entry), got)
		}
	}
}

// TestPendingDeletesNeedLogVersion2: a transaction that writes the pending_delete table is
// written in log version 2 (so leaders propose it only once every member reads it), a plain
// transaction stays version 1, and the same body under a version 1 header is refused.
func TestPendingDeletesNeedLogVersion2(t *testing.T) {
	plain := &Txn{Ops: []Op{{Kind: OpDelete, Table: TableInstanceMappings, Key: cellA}}}
	pending := &Txn{Ops: []Op{{Kind: OpPut, Table: TablePendingDeletes, Record: &PendingDelete{InstanceUUID: cellA, CellUUID: cellA}}}}
	if Version(plain) != 1 || Version(pending) != 2 {
		t.Fatalf("versions: plain %d, pending %d; want 1 and 2", Version(plain), Version(pending))
	}
	entry := Encode(pending, time.Time{})
	if entry[0] != versionedEntry || entry[1] != 2 {
		t.Fatalf("entry starts %x, want the version 2 header", entry[:2])
	}
	c, _, err := Decode(entry)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.(*Txn).Ops[0].Record.(*PendingDelete); got.InstanceUUID != cellA || got.CellUUID != cellA {
		t.Fatalf("decoded %+v", got)
	}
	downgraded := append([]byte{versionedEntry, 1}, entry[2:]...)
	if _, _, err := Decode(downgraded); err == nil {
		t.Fatal("a pending_delete transaction under a version 1 header decoded")
	}
}

// TestDeleteCellCheckIndexNeedsLogVersion2: a delete_cell that carries the index of its
// live-instance check is a version 2 entry and round-trips; without one it keeps the version 1
// layout every release reads.
func TestDeleteCellCheckIndexNeedsLogVersion2(t *testing.T) {
	old := &DeleteCell{UUID: cellA, Force: true, NoLiveInstances: true}
	checked := &DeleteCell{UUID: cellA, Force: true, NoLiveInstances: true, LiveCheckedAt: 42}
	if Version(old) != 1 || Version(checked) != 2 {
		t.Fatalf("versions %d and %d, want 1 and 2", Version(old), Version(checked))
	}
	for _, c := range []*DeleteCell{old, checked} {
		got, _, err := Decode(Encode(c, time.Time{}))
		if err != nil || *got.(*DeleteCell) != *c {
			t.Fatalf("round trip of %+v: %+v, %v", c, got, err)
		}
	}
}
