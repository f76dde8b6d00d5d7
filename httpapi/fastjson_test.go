package httpapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cellmap/cellmap/fsm"
)

func TestAppendInstanceMappingMatchesEncodingJSON(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 9, 0, 0, 123456789, time.UTC)
	tests := []fsm.InstanceMapping{
		{InstanceUUID: "aaaaaaaa-0000-0000-0000-000000000001", CellUUID: "c", ProjectID: "p", UserID: "u", CreatedAt: t0, UpdatedAt: t0, Revision: 7},
		{InstanceUUID: "x", ProjectID: "p", QueuedForDelete: true, CreatedAt: t0.Add(time.Second), UpdatedAt: t0, Revision: 1 << 40},
		{InstanceUUID: "q\"\\<>&\n\r\t\x01\x7f", ProjectID: "ünïcødé \u2028\u2029 €", UserID: "bad\xffutf8"},
		{InstanceUUID: "zero times", CreatedAt: time.Time{}, UpdatedAt: time.Unix(0, 0).UTC()},
	}
	for _, m := range tests {
		want, err := json.Marshal(InstanceMappingOut(&m))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		if got := appendInstanceMapping(nil, &m); string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"\\<>&\n", "\b\f", "\xff\xfe", "\u2028", "é€😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("got %s, want %s", got, want)
		}
	})
}
