package api

import (
	"reflect"
	"testing"
	"time"
)

func TestFullOrder(t *testing.T) {
	asc := func(k string) SortKey { return SortKey{Key: k} }
	desc := func(k string) SortKey { return SortKey{Key: k, Desc: true} }
	tests := []struct {
		name string
		keys []SortKey
		want []SortKey
	}{
		{"none is Nova's default", nil, []SortKey{desc(SortCreatedAt), asc(SortUUID)}},
		{"uuid breaks ties", []SortKey{asc(SortName)}, []SortKey{asc(SortName), asc(SortUUID)}},
		{"a direction is kept", []SortKey{asc(SortCreatedAt)}, []SortKey{asc(SortCreatedAt), asc(SortUUID)}},
		{"uuid given last", []SortKey{desc(SortHost), desc(SortUUID)}, []SortKey{desc(SortHost), desc(SortUUID)}},
		{"uuid given first", []SortKey{asc(SortUUID), asc(SortName)}, []SortKey{asc(SortUUID), asc(SortName)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]SortKey(nil), tc.keys...)
			got := FullOrder(in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if !reflect.DeepEqual(in, tc.keys) {
				t.Fatalf("FullOrder changed its argument to %v", in)
			}
		})
	}
}

func TestCompareRows(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	row := func(uuid, name string, created time.Time) SortRow {
		return SortRow{UUID: uuid, Name: name, ProjectID: "p", Status: "ACTIVE", Host: "h", CreatedAt: created, UpdatedAt: created}
	}
	a := row("a", "x", t0)
	b := row("b", "x", t0)
	newer := row("c", "w", t0.Add(time.Nanosecond))
	// The same instant in another zone: times compare as instants, not as text.
	aElsewhere := a
	aElsewhere.CreatedAt = t0.In(time.FixedZone("UTC+2", 2*3600))
	updated := b
	updated.UpdatedAt = t0.Add(time.Hour)
	hostA, hostB := a, b
	hostA.Host, hostB.Host = "h2", "h10" // byte-wise: "h10" < "h2"
	statusA, projectB := a, b
	statusA.Status, projectB.ProjectID = "BUILD", "q"
	asc := func(k string) SortKey { return SortKey{Key: k} }
	desc := func(k string) SortKey { return SortKey{Key: k, Desc: true} }
	def := FullOrder(nil)
	tests := []struct {
		name string
		keys []SortKey
		a, b SortRow
		want int // the sign
	}{
		{"default: newest first", def, newer, a, -1},
		{"default: oldest last", def, a, newer, 1},
		{"default: uuid ascending breaks a tie", def, a, b, -1},
		{"default: the tiebreak is not reversed", def, b, a, 1},
		{"a row equals itself", def, a, a, 0},
		{"instants, not zones", []SortKey{asc(SortCreatedAt)}, aElsewhere, a, 0},
		{"name asc", FullOrder([]SortKey{asc(SortName)}), newer, a, -1},
		{"name desc", FullOrder([]SortKey{desc(SortName)}), newer, a, 1},
		{"equal names fall to uuid", FullOrder([]SortKey{desc(SortName)}), a, b, -1},
		{"uuid desc", []SortKey{desc(SortUUID)}, a, b, 1},
		{"updated_at", FullOrder([]SortKey{desc(SortUpdatedAt)}), updated, a, -1},
		{"host is byte-wise", FullOrder([]SortKey{asc(SortHost)}), hostB, hostA, -1},
		{"status: ACTIVE before BUILD", FullOrder([]SortKey{asc(SortStatus)}), statusA, b, 1},
		{"project_id", FullOrder([]SortKey{asc(SortProjectID)}), projectB, a, 1},
		{"the first key decides", FullOrder([]SortKey{asc(SortName), desc(SortCreatedAt)}), newer, b, -1},
		{"later keys decide ties", FullOrder([]SortKey{asc(SortHost), desc(SortCreatedAt)}), newer, b, -1},
		{"unknown keys compare equal", []SortKey{asc("flavor")}, a, b, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CompareRows(tc.keys, &tc.a, &tc.b)
			if sign(got) != tc.want {
				t.Fatalf("got %d, want sign %d", got, tc.want)
			}
			if back := CompareRows(tc.keys, &tc.b, &tc.a); sign(back) != -tc.want {
				t.Fatalf("swapped: got %d, want sign %d", back, -tc.want)
			}
		})
	}
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

func TestSortValue(t *testing.T) {
	at := time.Date(2026, 1, 1, 2, 0, 0, 5, time.FixedZone("UTC+2", 2*3600))
	r := SortRow{UUID: "u", Name: "n", ProjectID: "p", Status: "s", Host: "h", CreatedAt: at, UpdatedAt: at.Add(time.Second)}
	for key, want := range map[string]string{
		SortCreatedAt: "2026-01-01T00:00:00.000000005Z", SortUpdatedAt: "2026-01-01T00:00:01.000000005Z",
		SortName: "n", SortUUID: "u", SortProjectID: "p", SortStatus: "s", SortHost: "h", "flavor": "",
	} {
		if got := r.SortValue(key); got != want {
			t.Errorf("SortValue(%s): got %q, want %q", key, got, want)
		}
	}
	for _, key := range []string{SortCreatedAt, SortUpdatedAt, SortName, SortUUID, SortProjectID, SortHost, SortStatus} {
		if !IsSortKey(key) {
			t.Errorf("IsSortKey(%s): got false", key)
		}
	}
	if IsSortKey("display_name") {
		t.Errorf("IsSortKey(display_name): got true; the alias belongs to the API tier")
	}
}
