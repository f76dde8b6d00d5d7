package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/jepsen/history"
)

func runArgs(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"bogus"}, {"run", "--nodes", "0"}, {"run", "--nemesis", "ring"}, {"run", "extra"}, {"check"}, {"plan"},
		{"run", "--nemesis", "conductor-cut"}, {"run", "--workloads", "register,bank"}} {
		if code, _, _ := runArgs(args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	if code, out, _ := runArgs("help"); code != 0 || !strings.Contains(out, "exit codes") {
		t.Fatalf("help: %d %q", code, out)
	}
}

func TestPlanIsDeterministic(t *testing.T) {
	_, a, _ := runArgs("plan", "--seed", "77", "--nodes", "5", "--nemesis", "all", "--time", "10m", "--episodes", "1")
	_, b, _ := runArgs("plan", "--seed", "77", "--nodes", "5", "--nemesis", "all", "--time", "10m", "--episodes", "1")
	_, c, _ := runArgs("plan", "--seed", "78", "--nodes", "5", "--nemesis", "all", "--time", "10m", "--episodes", "1")
	if a == "" || a != b || a == c {
		t.Fatalf("plans: seed 77 twice %q / %q, seed 78 %q", a, b, c)
	}
	for _, n := range []string{"ring", "bridge", "membership"} {
		if !strings.Contains(a, n) {
			t.Fatalf("a 10 minute 5-node plan lacks %s: %s", n, a)
		}
	}
	if strings.Contains(a, "conductor-cut") {
		t.Fatalf("conductor-cut planned without the cells workload: %s", a)
	}
	_, cells, _ := runArgs("plan", "--seed", "77", "--workloads", "register,set,cells", "--time", "10m", "--episodes", "1")
	if !strings.Contains(cells, "conductor-cut") {
		t.Fatalf("a mixed plan with the cells workload lacks conductor-cut: %s", cells)
	}
}

// TestCheckReproducesVerdict re-checks a small recorded history offline.
func TestCheckReproducesVerdict(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	rec := history.NewRecorder(f)
	rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseRunStart, Data: []byte(`{"seed":9,"nodes":3}`)})
	rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseHealthy})
	w := rec.Invoke(history.Event{Process: 1, Workload: "register", F: "write", Key: "k", Node: "n1", Value: "a"})
	rec.Complete(w, history.KindOK, history.Event{Value: "a", Rev: 7})
	r := rec.Invoke(history.Event{Process: 2, Workload: "register", F: "read", Key: "k", Node: "n2"})
	rec.Complete(r, history.KindOK, history.Event{ServerIndex: 3}) // absent after an acknowledged write
	rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseRunEnd})
	f.Close()
	os.WriteFile(filepath.Join(dir, "results.json"), []byte(`{"verdict":"FAIL"}`), 0o644)
	code, out, _ := runArgs("check", dir)
	if code != 1 || !strings.Contains(out, "matches the recorded FAIL") {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "5 passed, 1 failed" {
		t.Fatalf("last line %q", last)
	}
	for _, f := range []string{"linearizability.html", "latency.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("check did not write %s: %v", f, err)
		}
	}
	if code, _, _ := runArgs("check", t.TempDir()); code != 2 {
		t.Fatalf("check of an empty dir: exit %d, want 2", code)
	}
}
