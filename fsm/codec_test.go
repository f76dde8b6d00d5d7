package fsm

import (
	"context"
	"reflect"
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

func FuzzDecode(f *testing.F) {
	f.Add(Encode(&Txn{Ops: []Op{{Kind: OpDelete, Table: TableHostMappings, Key: "h"}}}, time.Now()))
	f.Add(Encode(createCell(cellA, "n", "t", "d"), time.Now()))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, now, err := Decode(b)
		if err != nil {
			return
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
