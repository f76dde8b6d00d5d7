package cellproxy

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
)

func TestParseSort(t *testing.T) {
	asc := func(k string) api.SortKey { return api.SortKey{Key: k} }
	desc := func(k string) api.SortKey { return api.SortKey{Key: k, Desc: true} }
	tests := []struct {
		name       string
		keys, dirs []string
		want       []api.SortKey
		wantErr    bool
	}{
		{"default", nil, nil, []api.SortKey{desc("created_at"), asc("uuid")}, false},
		{"a direction alone applies to the default key", nil, []string{"asc"}, []api.SortKey{asc("created_at"), asc("uuid")}, false},
		{"missing dir is desc", []string{"name", "created_at"}, []string{"asc"}, []api.SortKey{asc("name"), desc("created_at"), asc("uuid")}, false},
		{"nova alias", []string{"display_name"}, []string{"ASC"}, []api.SortKey{asc("name"), asc("uuid")}, false},
		{"uuid ends the order", []string{"uuid", "name"}, []string{"desc"}, []api.SortKey{desc("uuid")}, false},
		{"unknown key", []string{"ram"}, nil, nil, true},
		{"bad dir", []string{"name"}, []string{"up"}, nil, true},
		{"too many dirs", []string{"name"}, []string{"asc", "desc"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseSort(tc.keys, tc.dirs)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("got %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(s.keys, tc.want) {
				t.Fatalf("got %v (%v), want %v", s.keys, err, tc.want)
			}
		})
	}
}

func TestCompareIsTotalAndFollowsNova(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := api.Server{ID: "a", Name: "x", Created: t0}
	b := api.Server{ID: "b", Name: "x", Created: t0}
	c := api.Server{ID: "c", Name: "w", Created: t0.Add(time.Second)}
	def, _ := parseSort(nil, nil)
	if def.compare(&c, &a) >= 0 {
		t.Fatalf("newest first: c must come before a")
	}
	if def.compare(&a, &b) >= 0 || def.compare(&b, &a) <= 0 {
		t.Fatalf("equal created_at: uuid ascending breaks the tie")
	}
	if def.compare(&a, &a) != 0 {
		t.Fatalf("a server equals itself")
	}
	byName, _ := parseSort([]string{"name"}, []string{"asc"})
	if byName.compare(&c, &a) >= 0 {
		t.Fatalf("name asc: w before x")
	}
}

func TestAfterAndConductorKeys(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 5, time.UTC)
	s := api.Server{ID: "u1", Name: "n", Created: t0}
	def, _ := parseSort(nil, nil)
	if got, want := def.after(&s), []string{"2026-01-01T00:00:00.000000005Z", "u1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after: got %v, want %v", got, want)
	}
	keys, dirs := def.conductorKeys()
	if !reflect.DeepEqual(keys, []string{"created_at"}) || !reflect.DeepEqual(dirs, []string{"desc"}) {
		t.Fatalf("conductor keys: got %v %v", keys, dirs)
	}
}

func TestUpdatedAtOfAServerWithoutOne(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	later := t0.Add(time.Minute)
	// A down cell's minimal record has no update time: it sorts by its creation time.
	minimal := api.Server{ID: "a", Created: later}
	updated := api.Server{ID: "b", Created: t0, Updated: &t0}
	byUpdated, err := parseSort([]string{"updated_at"}, []string{"asc"})
	if err != nil {
		t.Fatal(err)
	}
	if byUpdated.compare(&updated, &minimal) >= 0 {
		t.Fatalf("updated_at asc: b (updated %v) must come before a (created %v, never updated)", t0, later)
	}
	if got, want := byUpdated.after(&minimal), []string{"2026-01-01T00:01:00Z", "a"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after: got %v, want %v", got, want)
	}
}
