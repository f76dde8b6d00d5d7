package audit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func entry(i int) Entry {
	return Entry{Time: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC), RequestID: fmt.Sprintf("r%04d", i), AccessorID: "a",
		Role: "admin", Method: "POST", Path: "/v1/cells", Status: 201, RemoteAddr: "127.0.0.1:1"}
}

// lines returns the decoded lines of a file (fails on a partial or bad line).
func lines(t *testing.T, path string) []Entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: bad line %q: %v", path, sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

func TestRotation(t *testing.T) {
	lineLen := func() int64 { b, _ := json.Marshal(entry(0)); return int64(len(b) + 1) }()
	for _, tc := range []struct {
		name             string
		perFile, keep, n int
		wantFiles        []int // lines in Path, Path.1, ... Path.keep
	}{
		{"no rotation", 10, 2, 7, []int{7}},
		{"one rotation", 10, 2, 15, []int{5, 10}},
		{"oldest dropped", 8, 2, 26, []int{2, 8, 8}},
		{"keep one", 8, 1, 20, []int{4, 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Path, cfg.MaxBytes, cfg.Keep = filepath.Join(t.TempDir(), "audit.log"), int64(tc.perFile)*lineLen, tc.keep
			l, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < tc.n; i++ {
				if err := l.Record(entry(i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			last := tc.n
			for k, want := range tc.wantFiles {
				path := cfg.Path
				if k > 0 {
					path = fmt.Sprintf("%s.%d", cfg.Path, k)
				}
				got := lines(t, path)
				if len(got) != want || got[len(got)-1].RequestID != fmt.Sprintf("r%04d", last-1) {
					t.Fatalf("%s: %d lines ending %v, want %d ending r%04d", path, len(got), got[len(got)-1].RequestID, want, last-1)
				}
				last -= want
				if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
					t.Fatalf("%s: mode %v, want 0600", path, info.Mode().Perm())
				}
			}
			if _, err := os.Stat(fmt.Sprintf("%s.%d", cfg.Path, tc.keep+1)); err == nil {
				t.Fatalf("more than %d rotated files kept", tc.keep)
			}
		})
	}
}

func TestConcurrentRecordsAreWholeLines(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Path, cfg.MaxBytes = filepath.Join(t.TempDir(), "audit.log"), 64<<10
	l, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if err := l.Record(entry(w*1000 + i)); err != nil {
					t.Error(err)
				}
			}
		}(w)
	}
	wg.Wait()
	l.Close()
	total := 0
	for _, p := range []string{cfg.Path, cfg.Path + ".1", cfg.Path + ".2", cfg.Path + ".3", cfg.Path + ".4", cfg.Path + ".5"} {
		if _, err := os.Stat(p); err == nil {
			total += len(lines(t, p))
		}
	}
	if total != 1600 {
		t.Fatalf("%d lines", total)
	}
	if err := (&Config{Path: "x", MaxBytes: 10, Keep: 1}).Validate(); err == nil || !strings.Contains(err.Error(), "MaxBytes") {
		t.Fatalf("validate: %v", err)
	}
}
