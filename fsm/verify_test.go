package fsm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

// stateFile writes a closed state file holding a cell and n instance mappings (applied in
// batches of 100, as raft would) and returns its path and applied index.
func stateFile(t testing.TB, n int) (string, uint64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fsm.db")
	f := openTestFSM(t, path)
	f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	for done := 0; done < n; {
		var logs []*raft.Log
		for ; done < n && len(logs) < 100; done++ {
			logs = append(logs, f.entry(putMapping(fmt.Sprintf("aaaaaaaa-0000-0000-0000-%012d", done), cellA, "p")))
		}
		f.ApplyBatch(logs)
	}
	applied := f.AppliedIndex()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, applied
}

// zeroLeafPage overwrites with zeros a leaf page in use (not free) from the middle of the file.
func zeroLeafPage(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatal(err)
	}
	var leaves []int
	pageSize := db.Info().PageSize
	err = db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			info, err := tx.Page(id)
			if err != nil || info == nil {
				return err
			}
			if info.Type == "leaf" && info.Count > 0 {
				leaves = append(leaves, id)
			}
		}
	})
	db.Close()
	if err != nil || len(leaves) == 0 {
		t.Fatalf("no leaf page in %s: %v", path, err)
	}
	writeAt(t, path, make([]byte, pageSize), int64(leaves[len(leaves)/2]*pageSize))
}

func writeAt(t *testing.T, path string, b []byte, off int64) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name    string
		damage  func(t *testing.T, path string)
		damaged bool
	}{
		{"intact", func(*testing.T, string) {}, false},
		{"missing", func(t *testing.T, path string) { os.Remove(path) }, false},
		{"zeroed leaf page", zeroLeafPage, true},
		{"value changed behind the checksum", func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket(instancesTable.bucket)
				k, v := b.Cursor().First()
				return b.Put(k, append(append([]byte(nil), v...), 'x'))
			})
			if err != nil {
				t.Fatal(err)
			}
		}, true},
		{"both meta pages zeroed", func(t *testing.T, path string) {
			writeAt(t, path, make([]byte, 2*os.Getpagesize()), 0)
		}, true},
		{"truncated", func(t *testing.T, path string) {
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, info.Size()/3); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"not a bbolt file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("not a database"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, applied := stateFile(t, 2000)
			tc.damage(t, path)
			got, err := Verify(path)
			switch {
			case tc.damaged && !errors.Is(err, ErrDamaged):
				t.Fatalf("got %d, %v; want an error wrapping ErrDamaged", got, err)
			case !tc.damaged && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tc.name == "intact" && got != applied:
				t.Fatalf("applied index %d, want %d", got, applied)
			}
		})
	}
}

// TestVerifyLockedFileIsNotDamage: a state file another process holds open cannot be read,
// which must not be mistaken for damage (the node would set a good file aside).
func TestVerifyLockedFileIsNotDamage(t *testing.T) {
	path, _ := stateFile(t, 10)
	f := openTestFSM(t, path)
	defer f.Close()
	start := time.Now()
	_, err := Verify(path)
	if err == nil || errors.Is(err, ErrDamaged) {
		t.Fatalf("got %v after %v, want a lock timeout that is not ErrDamaged", err, time.Since(start))
	}
}

// BenchmarkVerify measures the start-up check of a state file holding 100,000 mappings.
func BenchmarkVerify(b *testing.B) {
	path, _ := stateFile(b, 100000)
	info, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Verify(path); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(info.Size())/(1<<20), "MiB")
}
