package fsm

import (
	"errors"
	"fmt"
	"testing"
)

func TestTxnPreconditions(t *testing.T) {
	f := newTestFSM(t)
	f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	f.mustApply(createCell(cellB, "b", "rabbit://b", "mysql://b"))
	rev := f.mustApply(putMapping(inst1, cellA, "p1")).Index
	f.mustApply(putHost("h1", cellA))

	im := func(uuid, cell string) *InstanceMapping {
		return &InstanceMapping{InstanceUUID: uuid, CellUUID: cell, ProjectID: "p1"}
	}
	tests := []struct {
		name   string
		ops    []Op
		want   error
		failed int
	}{
		{"create when absent", []Op{{Kind: OpPut, Table: TableInstanceMappings, Record: im(inst2, cellA), IfAbsent: true}}, nil, -1},
		{"create when present", []Op{{Kind: OpPut, Table: TableInstanceMappings, Record: im(inst1, cellB), IfAbsent: true}}, ErrExists, 0},
		{"revision matches", []Op{{Kind: OpCheck, Table: TableInstanceMappings, Key: inst1, IfRevision: rev}}, nil, -1},
		{"revision differs", []Op{{Kind: OpPut, Table: TableInstanceMappings, Record: im(inst1, cellB), IfRevision: rev + 100}}, ErrRevisionMismatch, 0},
		{"revision of missing key", []Op{{Kind: OpDelete, Table: TableInstanceMappings, Key: inst3, IfRevision: 5}}, ErrRevisionMismatch, 0},
		{"delete missing", []Op{{Kind: OpDelete, Table: TableInstanceMappings, Key: inst3}}, ErrNotFound, 0},
		{"check absent holds", []Op{{Kind: OpCheck, Table: TableInstanceMappings, Key: inst3, IfAbsent: true}}, nil, -1},
		{"host in other cell", []Op{{Kind: OpDelete, Table: TableHostMappings, Key: "h1", IfCell: cellB}}, ErrCellMismatch, 0},
		{"unknown cell", []Op{{Kind: OpPut, Table: TableInstanceMappings, Record: im(inst3, "no-such-cell")}}, ErrUnknownCell, 0},
		{"host needs a cell", []Op{{Kind: OpPut, Table: TableHostMappings, Record: &HostMapping{Host: "h2"}}}, ErrInvalid, 0},
		{"duplicate key", []Op{
			{Kind: OpPut, Table: TableInstanceMappings, Record: im(inst3, cellA)},
			{Kind: OpDelete, Table: TableInstanceMappings, Key: inst3},
		}, ErrInvalid, 1},
		{"empty", nil, ErrInvalid, -1},
		{"second op fails, first is not applied", []Op{
			{Kind: OpPut, Table: TableInstanceMappings, Record: im(inst3, cellA)},
			{Kind: OpCheck, Table: TableInstanceMappings, Key: inst1, IfRevision: 1},
		}, ErrRevisionMismatch, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := f.checksum()
			res := f.apply(&Txn{Ops: tc.ops})
			if (tc.want == nil && res.Err != nil) || !errors.Is(res.Err, tc.want) {
				t.Fatalf("got %v, want %v", res.Err, tc.want)
			}
			if res.FailedOp != tc.failed {
				t.Fatalf("got failed op %d, want %d", res.FailedOp, tc.failed)
			}
			if tc.want != nil && f.checksum() != before {
				t.Fatalf("a failed transaction changed the state")
			}
		})
	}
	f.read(func(r *Reader) error {
		if _, err := r.InstanceMapping(inst3); !errors.Is(err, ErrNotFound) {
			t.Errorf("inst3 after failed transactions: got %v, want not found", err)
		}
		return nil
	})
}

func TestTxnAtomicScheduleAndIndexes(t *testing.T) {
	f := newTestFSM(t)
	f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	spec := ServerSpec{Name: "vm1", ProjectID: "p1", UserID: "u1", ImageRef: "img", Flavor: Flavor{ID: "1", VCPUs: 1}}
	// API: request spec + build request + mapping (no cell) in one transaction.
	f.mustApply(&Txn{Ops: []Op{
		{Kind: OpPut, Table: TableRequestSpecs, Record: &ServerRequest{InstanceUUID: inst1, Spec: spec}, IfAbsent: true},
		{Kind: OpPut, Table: TableBuildRequests, Record: &ServerRequest{InstanceUUID: inst1, Spec: spec}, IfAbsent: true},
		{Kind: OpPut, Table: TableInstanceMappings, Record: &InstanceMapping{InstanceUUID: inst1, ProjectID: "p1", UserID: "u1"}, IfAbsent: true},
	}})
	var created InstanceMapping
	f.read(func(r *Reader) error {
		m, err := r.InstanceMapping(inst1)
		if err != nil {
			return err
		}
		created = *m
		if _, err := r.BuildRequest(inst1); err != nil {
			return err
		}
		return nil
	})
	// Conductor: mapping gets its cell and the build request goes, in one transaction.
	f.mustApply(&Txn{Ops: []Op{
		{Kind: OpPut, Table: TableInstanceMappings, Record: &InstanceMapping{InstanceUUID: inst1, CellUUID: cellA, ProjectID: "p1", UserID: "u1"}, IfRevision: created.Revision},
		{Kind: OpDelete, Table: TableBuildRequests, Key: inst1},
	}})
	f.read(func(r *Reader) error {
		m, err := r.InstanceMapping(inst1)
		if err != nil {
			return err
		}
		if m.CellUUID != cellA || !m.CreatedAt.Equal(created.CreatedAt) || !m.UpdatedAt.After(created.UpdatedAt) {
			t.Errorf("got %+v, want cell %s, created_at kept and updated_at moved", m, cellA)
		}
		if _, err := r.BuildRequest(inst1); !errors.Is(err, ErrNotFound) {
			t.Errorf("build request: got %v, want not found", err)
		}
		for _, q := range []InstanceQuery{{CellUUID: cellA}, {ProjectID: "p1"}, {ProjectID: "p1", CellUUID: cellA}} {
			got, err := r.InstanceMappings(q)
			if err != nil || len(got) != 1 {
				t.Errorf("query %+v: got %d mappings (%v), want 1", q, len(got), err)
			}
		}
		if got, _ := r.InstanceMappings(InstanceQuery{CellUUID: ""}); len(got) != 1 {
			t.Errorf("all mappings: got %d, want 1", len(got))
		}
		return nil
	})
}

func TestInstanceMappingsPaging(t *testing.T) {
	f := newTestFSM(t)
	f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	f.mustApply(createCell(cellB, "b", "rabbit://b", "mysql://b"))
	uuids := []string{inst1, inst2, inst3, "aaaaaaaa-0000-0000-0000-000000000004", "aaaaaaaa-0000-0000-0000-000000000005"}
	for i, u := range uuids {
		cell, project := cellA, "p1"
		if i%2 == 1 {
			cell, project = cellB, "p2"
		}
		f.mustApply(putMapping(u, cell, project))
	}
	tests := []struct {
		name string
		q    InstanceQuery
		want []string
	}{
		{"all", InstanceQuery{}, uuids},
		{"limit", InstanceQuery{Limit: 2}, uuids[:2]},
		{"marker", InstanceQuery{Marker: inst2, Limit: 2}, uuids[2:4]},
		{"project", InstanceQuery{ProjectID: "p1"}, []string{uuids[0], uuids[2], uuids[4]}},
		{"project marker", InstanceQuery{ProjectID: "p1", Marker: uuids[0], Limit: 1}, []string{uuids[2]}},
		{"cell", InstanceQuery{CellUUID: cellB}, []string{uuids[1], uuids[3]}},
		{"project and cell", InstanceQuery{ProjectID: "p2", CellUUID: cellA}, nil},
		{"marker past end", InstanceQuery{Marker: "zzzz"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.read(func(r *Reader) error {
				got, err := r.InstanceMappings(tc.q)
				if err != nil {
					return err
				}
				var ids []string
				for _, m := range got {
					ids = append(ids, m.InstanceUUID)
				}
				if len(ids) != len(tc.want) {
					t.Fatalf("got %v, want %v", ids, tc.want)
				}
				for i := range ids {
					if ids[i] != tc.want[i] {
						t.Fatalf("got %v, want %v", ids, tc.want)
					}
				}
				return nil
			})
		})
	}
}

func TestPutIfAbsentSkipsExisting(t *testing.T) {
	f := newTestFSM(t)
	f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	first := f.mustApply(putMapping(inst1, cellA, "p1")).Index
	f.mustApply(&Txn{Ops: []Op{
		{Kind: OpPutIfAbsent, Table: TableInstanceMappings, Record: &InstanceMapping{InstanceUUID: inst1, CellUUID: cellA, ProjectID: "other"}},
		{Kind: OpPutIfAbsent, Table: TableInstanceMappings, Record: &InstanceMapping{InstanceUUID: inst2, CellUUID: cellA, ProjectID: "p1"}},
	}})
	f.read(func(r *Reader) error {
		m, _ := r.InstanceMapping(inst1)
		if m.ProjectID != "p1" || m.Revision != first {
			t.Errorf("existing mapping: got %+v, want it unchanged", m)
		}
		if _, err := r.InstanceMapping(inst2); err != nil {
			t.Errorf("new mapping: %v", err)
		}
		return nil
	})
}

func TestTxnValidate(t *testing.T) {
	im := &InstanceMapping{InstanceUUID: inst1, ProjectID: "p"}
	tests := []struct {
		name string
		ops  []Op
		ok   bool
	}{
		{"put", []Op{{Kind: OpPut, Table: TableInstanceMappings, Record: im}}, true},
		{"no ops", nil, false},
		{"wrong record type", []Op{{Kind: OpPut, Table: TableHostMappings, Record: im}}, false},
		{"put without record", []Op{{Kind: OpPut, Table: TableHostMappings, Key: "h"}}, false},
		{"delete with record", []Op{{Kind: OpDelete, Table: TableInstanceMappings, Record: im}}, false},
		{"unknown table", []Op{{Kind: OpDelete, Table: 99, Key: "k"}}, false},
		{"unknown kind", []Op{{Kind: 99, Table: TableHostMappings, Key: "k"}}, false},
		{"empty key", []Op{{Kind: OpDelete, Table: TableHostMappings}}, false},
		{"same key twice", []Op{{Kind: OpCheck, Table: TableHostMappings, Key: "h"}, {Kind: OpDelete, Table: TableHostMappings, Key: "h"}}, false},
		{"same key in two tables", []Op{{Kind: OpCheck, Table: TableBuildRequests, Key: inst1}, {Kind: OpPut, Table: TableInstanceMappings, Record: im}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := (&Txn{Ops: tc.ops}).Validate()
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Fatalf("got %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestIndexedListingsFollowCreation lists a project's and a cell's mappings in creation order
// (the indexes append new mappings), pages with a marker, and keeps a mapping's place in its
// new cell's listing when it moves.
func TestIndexedListingsFollowCreation(t *testing.T) {
	f := newTestFSM(t)
	f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	f.mustApply(createCell(cellB, "b", "rabbit://b", "mysql://b"))
	order := []string{inst3, inst1, "aaaaaaaa-0000-0000-0000-000000000009", inst2} // not uuid order
	for _, u := range order {
		f.mustApply(putMapping(u, cellA, "p1"))
	}
	list := func(q InstanceQuery) []string {
		var ids []string
		f.read(func(r *Reader) error {
			ms, err := r.InstanceMappings(q)
			for _, m := range ms {
				ids = append(ids, m.InstanceUUID)
			}
			return err
		})
		return ids
	}
	if got := list(InstanceQuery{ProjectID: "p1"}); fmt.Sprint(got) != fmt.Sprint(order) {
		t.Fatalf("project listing: got %v, want creation order %v", got, order)
	}
	if got := list(InstanceQuery{CellUUID: cellA, Marker: order[1], Limit: 2}); fmt.Sprint(got) != fmt.Sprint(order[2:4]) {
		t.Fatalf("cell listing after %s: got %v, want %v", order[1], got, order[2:4])
	}
	// inst1 moves to cell b and keeps its creation place: a marker on it still pages cell a.
	f.mustApply(putMapping(inst1, cellB, "p1"))
	if got := list(InstanceQuery{CellUUID: cellA, Marker: inst1}); fmt.Sprint(got) != fmt.Sprint(order[2:4]) {
		t.Fatalf("cell a after the moved marker: got %v, want %v", got, order[2:4])
	}
	if got := list(InstanceQuery{CellUUID: cellB}); fmt.Sprint(got) != fmt.Sprint([]string{inst1}) {
		t.Fatalf("cell b: got %v, want [inst1]", got)
	}
	f.read(func(r *Reader) error {
		if _, err := r.InstanceMappings(InstanceQuery{ProjectID: "p1", Marker: "aaaaaaaa-0000-0000-0000-00000000ffff"}); !errors.Is(err, ErrMarkerNotFound) {
			t.Fatalf("unknown marker: got %v, want ErrMarkerNotFound", err)
		}
		return nil
	})
}
