package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMapInstances(t *testing.T) {
	t.Parallel()
	dp := startDataPlane(t)
	n := dp.Node
	condA := dp.addCell("a", cellA, "ha:64:65536:1000")
	condB := dp.addCell("b", cellB, "hb:64:65536:1000")
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	exact := cellInstances(t, condA, "aaaaaaaa", 4, base)     // a multiple of the batch
	remainder := cellInstances(t, condB, "bbbbbbbb", 5, base) // not a multiple
	mapJSON := func(t *testing.T, cell string, args ...string) (int, mapInstancesResult) {
		t.Helper()
		var res mapInstancesResult
		r := ctl(t, n, append([]string{"--format", "json", "cell_v2", "map_instances", "--cell_uuid", cell}, args...)...)
		rep := jsonResult(t, r, &res)
		if len(rep.Messages) != 0 || r.stderr != "" {
			t.Fatalf("got %+v, stderr %q", rep, r.stderr)
		}
		return r.code, res
	}
	type step struct{ code, mapped, skipped int }
	runSteps := func(t *testing.T, cell string, steps []step, args ...string) {
		t.Helper()
		for i, s := range steps {
			code, res := mapJSON(t, cell, args...)
			if code != s.code || res.Mapped != s.mapped || res.Skipped != s.skipped || res.Batches != 1 || res.Done != (code == 0) {
				t.Fatalf("run %d: got exit %d %+v, want exit %d, %d mapped, %d skipped", i+1, code, res, s.code, s.mapped, s.skipped)
			}
		}
	}

	t.Run("batches, exact multiple", func(t *testing.T) {
		// Nova's quirk: the full last batch answers 1, the next (empty) run 0.
		runSteps(t, cellA, []step{{exitMapInstancesMore, 2, 0}, {exitMapInstancesMore, 2, 0}, {exitOK, 0, 0}}, "--max-count", "2")
		mappedTo(t, n, cellA, exact)
	})
	t.Run("batches, remainder", func(t *testing.T) {
		runSteps(t, cellB, []step{{exitMapInstancesMore, 2, 0}, {exitMapInstancesMore, 2, 0}, {exitOK, 1, 0}}, "--max-count", "2")
		mappedTo(t, n, cellB, remainder)
	})
	t.Run("reset starts again", func(t *testing.T) {
		runSteps(t, cellA, []step{{exitMapInstancesMore, 0, 2}}, "--max-count", "2", "--reset")
		// The run after resumes where the reset run stopped.
		runSteps(t, cellA, []step{{exitMapInstancesMore, 0, 2}, {exitOK, 0, 0}}, "--max-count", "2")
		runSteps(t, cellA, []step{{exitOK, 0, 4}}, "--max-count", "10", "--reset")
		// Table output prints nothing.
		ctl(t, n, "cell_v2", "map_instances", "--cell_uuid", cellA, "--max-count", " 3 ", "--reset").wantExact(t, exitMapInstancesMore, "")
		ctl(t, n, "cell-v2", "map-instances", "--cell-uuid", cellA, "--max_count", "3").wantExact(t, exitOK, "")
		mappedTo(t, n, cellA, exact)
	})
	t.Run("all batches", func(t *testing.T) {
		more := cellInstances(t, condB, "cccccccc", 55, base.Add(time.Hour))
		// On a terminal a progress line per batch of 50; the 5 mapped before are skipped.
		want := fmt.Sprintf("\rMapped 45 instances (skipped 5) in cell %[1]s\rMapped 55 instances (skipped 5) in cell %[1]s\n", cellB)
		ctlTTY(t, n, "cell_v2", "map_instances", "--cell_uuid", cellB).wantExact(t, exitOK, want)
		mappedTo(t, n, cellB, append(remainder, more...))
		// Not on a terminal: nothing. --reset only with the first batch.
		ctl(t, n, "cell_v2", "map_instances", "--cell_uuid", cellB, "--reset").wantExact(t, exitOK, "")
		code, res := mapJSON(t, cellB, "--reset")
		if code != exitOK || res != (mapInstancesResult{Mapped: 0, Skipped: 60, Batches: 2, Done: true}) {
			t.Fatalf("got exit %d %+v", code, res)
		}
		// JSON output never shows progress.
		r := ctlTTY(t, n, "--format", "json", "cell_v2", "map_instances", "--cell_uuid", cellB, "--reset")
		if r.code != exitOK || strings.Contains(r.stdout, "\r") {
			t.Fatalf("json on a terminal: exit %d\n%q", r.code, r.stdout)
		}
	})
	t.Run("unknown cell", func(t *testing.T) {
		unknown := "c0ffee00-0000-4000-8000-00000000000c"
		for _, uuid := range []string{unknown, "a"} {
			r := ctl(t, n, "cell_v2", "map_instances", "--cell_uuid", uuid, "--max-count", "2")
			if r.code != exitUnexpected || r.stdout != "" || r.stderr != "An error has occurred:\n"+fmt.Sprintf(msgCellNoMapping, uuid)+"\n" {
				t.Fatalf("%s: got exit %d, stdout %q, stderr %q", uuid, r.code, r.stdout, r.stderr)
			}
		}
	})
	t.Run("cell down", func(t *testing.T) {
		dp.stopCell(t, condA)
		for _, args := range [][]string{{"--max-count", "2"}, nil} {
			r := ctl(t, n, append([]string{"cell_v2", "map_instances", "--cell_uuid", cellA}, args...)...)
			if r.code != exitUnexpected || !strings.Contains(r.stderr, "cell_down") {
				t.Fatalf("%q: got exit %d, stderr %q", args, r.code, r.stderr)
			}
		}
	})
}

func TestMapInstancesMaxCount(t *testing.T) {
	t.Parallel()
	addr := closedAddr(t) // checked before any request
	for _, v := range []string{"0", "-1", "abc", "", "1.5", "2x"} {
		r := runCLI(t, nil, "--addr", addr, "cell_v2", "map_instances", "--cell_uuid", cellA, "--max-count", v)
		r.wantExact(t, exitMapInstancesBadMaxCount, "Must supply a positive value for max-count\n")
		if r.stderr != "" {
			t.Fatalf("%q: stderr %q", v, r.stderr)
		}
	}
	r := runCLI(t, nil, "--addr", addr, "--format", "json", "cell_v2", "map_instances", "--cell_uuid", cellA, "--max-count=0")
	rep := jsonResult(t, r, nil)
	if rep.ExitCode != exitMapInstancesBadMaxCount || len(rep.Messages) != 1 {
		t.Fatalf("json: got %+v", rep)
	}
}

func TestIsTerminal(t *testing.T) {
	t.Parallel()
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	regular, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	for _, tc := range []struct {
		name string
		w    interface{ Write([]byte) (int, error) }
		want bool
	}{
		{"character device", devNull, true},
		{"regular file", regular, false},
		{"buffer", &bytes.Buffer{}, false},
		{"terminal stand-in", &ttyBuffer{}, true},
	} {
		if got := isTerminal(tc.w); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
