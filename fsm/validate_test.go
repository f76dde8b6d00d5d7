package fsm

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api/validate"
)

func TestCommandValidate(t *testing.T) {
	spec := ServerSpec{Name: "vm", ProjectID: "p", UserID: "u", Flavor: Flavor{ID: "1", Name: "tiny", VCPUs: 1, RAMMB: 1}}
	badSpec := spec
	badSpec.Name = "vm\x00"
	put := func(r Record) *Txn { return &Txn{Ops: []Op{{Kind: OpPut, Table: tableOfRecord(r), Record: r}}} }
	tests := []struct {
		name string
		c    Command
		ok   bool
	}{
		{"noop", &Noop{}, true},
		{"create cell", createCell(cellA, "c", "rabbit://h:5672/", "mysql://db"), true},
		{"create cell without name", createCell(cellA, "", "rabbit://h", "mysql://db"), true},
		{"create cell, bad uuid", createCell("x", "c", "rabbit://h", "mysql://db"), false},
		{"create cell, upper-case uuid", createCell(strings.ToUpper(inst1), "c", "rabbit://h", "mysql://db"), false},
		{"create cell, control character in name", createCell(cellA, "c\n", "rabbit://h", "mysql://db"), false},
		{"create cell, no transport url", createCell(cellA, "c", "", "mysql://db"), false},
		{"create cell, long database", createCell(cellA, "c", "rabbit://h", strings.Repeat("d", validate.MaxURLLen+1)), false},
		{"update cell", &UpdateCell{UUID: cellA, Name: strp("n"), Disabled: boolp(true)}, true},
		{"update cell, empty transport url", &UpdateCell{UUID: cellA, TransportURL: strp("")}, false},
		{"update cell, invalid utf-8", &UpdateCell{UUID: cellA, Name: strp("\xff")}, false},
		{"delete cell", &DeleteCell{UUID: cellA, Force: true}, true},
		{"delete cell, bad uuid", &DeleteCell{UUID: "cell1"}, false},
		{"map cell0", &MapCell0{}, true},
		{"map cell0, long database", &MapCell0{DatabaseConnection: strings.Repeat("d", validate.MaxURLLen+1)}, false},
		{"put flavor", &PutFlavor{Flavor: Flavor{ID: "1", Name: "n", VCPUs: 1, RAMMB: 1, ExtraSpecs: map[string]string{"k": "v"}}}, true},
		{"put flavor, no vcpus", &PutFlavor{Flavor: Flavor{ID: "1", Name: "n", RAMMB: 1}}, false},
		{"put flavor, bad extra spec", &PutFlavor{Flavor: Flavor{ID: "1", Name: "n", VCPUs: 1, RAMMB: 1, ExtraSpecs: map[string]string{"": "v"}}}, false},
		{"delete flavor", &DeleteFlavor{ID: "1"}, true},
		{"delete flavor, no id", &DeleteFlavor{}, false},
		{"put mapping", putMapping(inst1, cellA, "p"), true},
		{"put mapping without cell", putMapping(inst1, "", "p"), true},
		{"put mapping, bad uuid", putMapping("i-1", cellA, "p"), false},
		{"put mapping, bad cell", putMapping(inst1, "c", "p"), false},
		{"put mapping, no project", putMapping(inst1, cellA, ""), false},
		{"put host", putHost("compute1", cellA), true},
		{"put host, control character", putHost("compute\x1b1", cellA), false},
		{"put host, no cell", putHost("compute1", ""), false},
		{"delete host", &Txn{Ops: []Op{{Kind: OpDelete, Table: TableHostMappings, Key: "compute1", IfCell: cellA}}}, true},
		{"delete host, bad if_cell", &Txn{Ops: []Op{{Kind: OpDelete, Table: TableHostMappings, Key: "compute1", IfCell: "c"}}}, false},
		{"delete mapping, bad key", &Txn{Ops: []Op{{Kind: OpDelete, Table: TableInstanceMappings, Key: "i-1"}}}, false},
		{"put request spec", put(&ServerRequest{InstanceUUID: inst1, Spec: spec}), true},
		{"put request spec, bad name", put(&ServerRequest{InstanceUUID: inst1, Spec: badSpec}), false},
		{"put cell0 instance", put(&Cell0Instance{InstanceUUID: inst1, Spec: spec, Status: "ERROR", Fault: "No valid host"}), true},
		{"put cell0 instance, no status", put(&Cell0Instance{InstanceUUID: inst1, Spec: spec}), false},
		{"put map marker", put(&MapMarker{CellUUID: cellA, Marker: inst1}), true},
		{"put map marker, bad marker", put(&MapMarker{CellUUID: cellA, Marker: "m"}), false},
		{"empty txn", &Txn{}, false},
		{"txn of MaxTxnOps ops", checks(MaxTxnOps), true},
		{"txn over MaxTxnOps ops", checks(MaxTxnOps + 1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			if tc.ok && err != nil {
				t.Fatalf("got %v, want it valid", err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
}

// checks is a transaction of n check ops on distinct host mappings.
func checks(n int) *Txn {
	t := &Txn{Ops: make([]Op, n)}
	for i := range t.Ops {
		t.Ops[i] = Op{Kind: OpCheck, Table: TableHostMappings, Key: fmt.Sprint("h", i)}
	}
	return t
}

func tableOfRecord(r Record) Table {
	switch r.(type) {
	case *ServerRequest:
		return TableRequestSpecs
	case *Cell0Instance:
		return TableCell0Instances
	case *MapMarker:
		return TableMapMarkers
	case *HostMapping:
		return TableHostMappings
	}
	return TableInstanceMappings
}

// TestDecodeValidRefusesWhatALeaderMustNotPropose: the check a leader runs on a forwarded
// entry refuses undecodable bytes (issue 9's type 99), entries of a newer log version, and
// well-formed commands that break the API's rules.
func TestDecodeValidRefusesWhatALeaderMustNotPropose(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name    string
		entry   []byte
		wantErr error // nil: accepted
	}{
		{"valid", Encode(putMapping(inst1, cellA, "p"), now), nil},
		{"type 99", []byte{0x63}, errAny},
		{"truncated", Encode(putMapping(inst1, cellA, "p"), now)[:5], errAny},
		{"invalid content", Encode(putMapping("not-a-uuid", cellA, "p"), now), ErrInvalid},
		{"newer log version", append([]byte{versionedEntry, LogVersion + 1, byte(CmdNoop)}, 0), ErrUnsupportedVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeValid(tc.entry)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("got %v, want it accepted", err)
			case tc.wantErr == errAny && err == nil, tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")
