package validate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestUUID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000", true},
		{"6F0C1B9E-0000-4000-8000-00000000000A", "6f0c1b9e-0000-4000-8000-00000000000a", true},
		{"6f0c1b9e-0000-4000-8000-00000000000", "", false},   // 35 characters
		{"6f0c1b9e-0000-4000-8000-0000000000000", "", false}, // 37 characters
		{"6f0c1b9e00000-4000-8000-000000000000", "", false},  // hyphen misplaced
		{"6f0c1b9e-0000-4000-8000-00000000000g", "", false},
		{"{6f0c1b9e-0000-4000-8000-00000000000}", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		if got := IsUUID(tc.in); got != tc.ok {
			t.Errorf("IsUUID(%q): got %v, want %v", tc.in, got, tc.ok)
		}
		got, err := UUID("cell_uuid", tc.in)
		if tc.ok {
			if err != nil || got != tc.want {
				t.Errorf("UUID(%q): got %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		if !errors.Is(err, ErrInvalid) || got != "" {
			t.Errorf("UUID(%q): got %q, %v; want ErrInvalid", tc.in, got, err)
		} else if want := `cell_uuid "` + tc.in + `" is not a uuid`; err.Error() != want {
			t.Errorf("UUID(%q): message %q, want %q", tc.in, err, want)
		}
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		required bool
		wantErr  string // "" for valid
	}{
		{"plain", "vm-1", true, ""},
		{"unicode", "ünïcødé ✓", true, ""},
		{"empty optional", "", false, ""},
		{"empty required", "", true, "name is required"},
		{"at the bound", strings.Repeat("a", MaxNameLen), true, ""},
		{"over the bound", strings.Repeat("a", MaxNameLen+1), true, "name must be valid UTF-8 of at most 255 characters"},
		{"bound counts characters", strings.Repeat("世", MaxNameLen), true, ""},
		{"characters over the bound", strings.Repeat("é", MaxNameLen+1), true, "name must be valid UTF-8 of at most 255 characters"},
		{"invalid UTF-8", "a\xffb", false, "name must be valid UTF-8 of at most 255 characters"},
		{"newline", "a\nb", false, "name must not contain control characters"},
		{"NUL", "a\x00", false, "name must not contain control characters"},
		{"DEL", "a\x7f", false, "name must not contain control characters"},
		{"space and tab differ", "a b", true, ""},
		{"tab", "a\tb", true, "name must not contain control characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Name("name", tc.in, tc.required)
			checkErr(t, err, tc.wantErr)
		})
	}
}

func TestMetadata(t *testing.T) {
	many := map[string]string{}
	for i := 0; i <= MaxMetadataItems; i++ {
		many[strings.Repeat("k", i+1)] = "v"
	}
	tests := []struct {
		name    string
		in      map[string]string
		wantErr string
	}{
		{"nil", nil, ""},
		{"plain", map[string]string{"role": "db", "empty": ""}, ""},
		{"too many", many, "metadata has 129 items, more than 128"},
		{"empty key", map[string]string{"": "v"}, "metadata key is required"},
		{"control key", map[string]string{"a\nb": "v"}, "metadata key must not contain control characters"},
		{"key bound counts bytes", map[string]string{strings.Repeat("é", 128): "v"}, "metadata key must be valid UTF-8 of at most 255 bytes"},
		{"invalid UTF-8 key", map[string]string{"\xff": "v"}, "metadata key must be valid UTF-8 of at most 255 bytes"},
		{"long value", map[string]string{"k": strings.Repeat("v", MaxNameLen+1)}, `metadata value of "k" must be valid UTF-8 of at most 255 bytes`},
		{"invalid UTF-8 value", map[string]string{"k": "\xc3"}, `metadata value of "k" must be valid UTF-8 of at most 255 bytes`},
		{"control characters in a value pass", map[string]string{"k": "line\nbreak"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, Metadata("metadata", tc.in, MaxMetadataItems), tc.wantErr)
		})
	}
}

func TestHost(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"plain", "compute-1.example.org", ""},
		{"empty", "", "host is required"},
		{"255 characters of 2 bytes", strings.Repeat("é", MaxNameLen), ""},
		{"255 characters of 3 bytes", strings.Repeat("世", MaxNameLen), "host must have at most 512 bytes"},
		{"control character", "h\u0085", "host must not contain control characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkErr(t, Host("host", tc.in), tc.wantErr) })
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("got %v, want no error", err)
	case want != "" && !errors.Is(err, ErrInvalid):
		t.Fatalf("got %v, want ErrInvalid %q", err, want)
	case want != "" && err.Error() != want:
		t.Fatalf("message %q, want %q", err, want)
	}
}

func TestTime(t *testing.T) {
	tests := []struct {
		in time.Time
		ok bool
	}{
		{time.Time{}, true}, // unset
		{time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC), true},
		{time.Unix(0, 1), true},
		{time.Date(2261, 12, 31, 23, 59, 59, 0, time.UTC), true},
		{time.Unix(0, 0), false}, // the epoch reads back as unset
		{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), false}, // overflowed int64 nanoseconds: stored as 1830
	}
	for _, tc := range tests {
		if err := Time("created_at", tc.in); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("Time(%v): %v, want ok %v", tc.in, err, tc.ok)
		}
	}
}

// TestNameRefusesC1ControlCharacters: "no control characters" means Unicode's (category Cc):
// C0, DEL and C1 (U+0080..U+009F, e.g. U+009B, a terminal's 8-bit CSI), in names as in
// metadata keys.
func TestNameRefusesC1ControlCharacters(t *testing.T) {
	for _, s := range []string{"vm\u0080", "vm\u0085", "\u009b31mred", "vm\u009f"} {
		if err := Name("name", s, true); !errors.Is(err, ErrInvalid) {
			t.Errorf("Name(%q): %v, want ErrInvalid", s, err)
		}
		if err := Metadata("metadata", map[string]string{s: "v"}, MaxMetadataItems); !errors.Is(err, ErrInvalid) {
			t.Errorf("Metadata key %q: %v, want ErrInvalid", s, err)
		}
	}
	for _, s := range []string{"vm\u00a0", "vm\u00ff", "ünïcødé"} { // just past C1: printable
		if err := Name("name", s, true); err != nil {
			t.Errorf("Name(%q): %v, want it valid", s, err)
		}
	}
}
