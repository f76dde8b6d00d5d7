package fsm

import (
	"encoding/hex"
	"reflect"
	"testing"
	"time"
)

// TestServerRequestEncodingIsStable pins the stored bytes of a server request, the record of
// both the build request and the request spec tables: data written by earlier versions must
// stay readable.
func TestServerRequestEncodingIsStable(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	spec := ServerSpec{Name: "vm", ProjectID: "p", UserID: "u", ImageRef: "i", AvailabilityZone: "az",
		Flavor: Flavor{ID: "f", Name: "m1", VCPUs: 2, RAMMB: 512, DiskGB: 1, ExtraSpecs: map[string]string{"c": "d", "a": "b"},
			CreatedAt: created, Revision: 4},
		Metadata: map[string]string{"k": "v"}}
	// Written by the first release (recordVersion 1), when the two tables had a record type
	// each, with this one layout.
	const want = "012461616161616161612d303030302d303030302d303030302d30303030303030303030303102766d0170017501" +
		"6902617a0166026d31048008020201610162016301648cc8b1c9c3bce586310401016b01768cc8b1c9c3bce5863107"
	r := &ServerRequest{InstanceUUID: inst1, Spec: spec, CreatedAt: created, Revision: 7}
	if got := hex.EncodeToString(encodeRecord(r)); got != want {
		t.Errorf("encoded %s, want %s", got, want)
	}
	b, _ := hex.DecodeString(want)
	for _, tbl := range []Table{TableBuildRequests, TableRequestSpecs} {
		got := tbl.NewRecord()
		if err := decodeRecord(b, got); err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("%s: decoded %#v (%v), want %#v", tbl, got, err, r)
		}
	}
}
