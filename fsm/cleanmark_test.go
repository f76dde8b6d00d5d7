package fsm

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCleanShutdownMarker: only a state file closed after its last write counts as clean. Open
// removes the marker before it writes; a marker from another moment of the file (an older
// close, another file's) or a torn one does not make it clean.
func TestCleanShutdownMarker(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fsm.db")
	f := openTestFSM(t, path)
	f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	older, err := os.ReadFile(CleanMarkPath(path))
	if err != nil {
		t.Fatalf("no marker after Close: %v", err)
	}
	g := openTestFSM(t, path)
	if _, err := os.Stat(CleanMarkPath(path)); !os.IsNotExist(err) {
		t.Fatalf("the marker survives Open: %v", err)
	}
	g.mustApply(putMapping(inst1, cellA, "p1"))
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	current, err := os.ReadFile(CleanMarkPath(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		mark  []byte // nil: no marker
		clean bool
	}{
		{"closed after its last write", current, true},
		{"no marker (killed, or the machine stopped)", nil, false},
		{"the marker of an earlier close", older, false},
		{"a torn marker", current[:len(current)/2], false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(CleanMarkPath(path))
			if tt.mark != nil {
				if err := os.WriteFile(CleanMarkPath(path), tt.mark, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			v, err := VerifyClean(path)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Exists || v.AppliedIndex != g.index || v.Clean != tt.clean {
				t.Fatalf("got %+v, want applied %d, clean %v", v, g.index, tt.clean)
			}
		})
	}
}

// TestVerifyCleanMissingFile: no state file is neither damage nor clean.
func TestVerifyCleanMissingFile(t *testing.T) {
	v, err := VerifyClean(filepath.Join(t.TempDir(), "fsm.db"))
	if err != nil || v != (Verified{}) {
		t.Fatalf("got %+v, %v; want the zero Verified", v, err)
	}
}
