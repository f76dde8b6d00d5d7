package cellproxy

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
)

func TestParseSort(t *testing.T) {
	tests := []struct {
		name       string
		keys, dirs []string
		wantKeys   []string
		wantDesc   []bool
		wantErr    bool
	}{
		{"default", nil, nil, []string{"created_at", "uuid"}, []bool{true, false}, false},
		{"missing dir is desc", []string{"name", "created_at"}, []string{"asc"}, []string{"name", "created_at", "uuid"}, []bool{false, true, false}, false},
		{"nova alias", []string{"display_name"}, []string{"ASC"}, []string{"name", "uuid"}, []bool{false, false}, false},
		{"uuid ends the order", []string{"uuid", "name"}, []string{"desc"}, []string{"uuid"}, []bool{true}, false},
		{"unknown key", []string{"ram"}, nil, nil, nil, true},
		{"bad dir", []string{"name"}, []string{"up"}, nil, nil, true},
		{"too many dirs", []string{"name"}, []string{"asc", "desc"}, nil, nil, true},
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
			if err != nil || !reflect.DeepEqual(s.keys, tc.wantKeys) || !reflect.DeepEqual(s.desc, tc.wantDesc) {
				t.Fatalf("got %v %v (%v), want %v %v", s.keys, s.desc, err, tc.wantKeys, tc.wantDesc)
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
