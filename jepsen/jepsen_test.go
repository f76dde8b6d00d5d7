package jepsen

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/jepsen/check"
	"github.com/cellmap/cellmap/jepsen/history"
	"github.com/cellmap/cellmap/jepsen/netns"
)

// requireNetns skips (with one line saying why) unless this machine can run the harness.
// With CELLMAP_JEPSEN_REQUIRED=1 (CI) a machine that cannot is a failure instead.
func requireNetns(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("chaos harness skipped in -short mode (it runs real clusters for about a minute)")
	}
	if err := netns.Probe(context.Background()); err != nil {
		if os.Getenv("CELLMAP_JEPSEN_REQUIRED") == "1" {
			t.Fatalf("chaos harness required (CELLMAP_JEPSEN_REQUIRED=1) but %v", err)
		}
		t.Skipf("chaos harness skipped: %v", err)
	}
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// shortRun is a CI-sized run cut to one short episode.
func shortRun(t *testing.T, seed uint64, d time.Duration) *Config {
	cfg := DefaultConfig()
	cfg.Episodes, cfg.EpisodeTime, cfg.Seed = 1, d, seed
	cfg.Log = logWriter{t}
	dir, err := os.MkdirTemp("", "cmj-test-")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Out = dir
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("run directory kept: %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return cfg
}

func run(t *testing.T, cfg *Config) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	t.Logf("run %s:\n%s", res.Dir, res.Summary)
	again, err := Check(res.Dir, check.Options{})
	if err != nil {
		t.Fatalf("re-check: %v", err)
	}
	if again.Verdict != res.Verdict || again.Passed() != res.Passed() {
		t.Fatalf("offline re-check gave %s (%d passed), the run %s (%d passed)", again.Verdict, again.Passed(), res.Verdict, res.Passed())
	}
	return res
}

// TestHarnessPassesNormalBuild runs a short episode of mixed faults (a snapshot-forcing
// partition, a leader pause and a crash of every node, seed 8) against the normal server:
// every checker must pass.
func TestHarnessPassesNormalBuild(t *testing.T) {
	requireNetns(t)
	res := run(t, shortRun(t, 8, 40*time.Second))
	if res.Verdict != check.Pass || res.ExitCode != ExitPass {
		t.Fatalf("got %s (exit %d), want PASS:\n%s", res.Verdict, res.ExitCode, res.Summary)
	}
	if res.Report.Stats.Faults < 3 || res.Report.Stats.Outcomes.OK < 500 {
		t.Fatalf("too little happened: %d faults, %d ok ops", res.Report.Stats.Faults, res.Report.Stats.Outcomes.OK)
	}
}

// TestHarnessCellsPassesNormalBuild runs the cells workload beside register and set, with two
// cell conductors on hosts of their own, under a conductor cut (seed 4: the cut first, then a
// leader pause and a random partition): the normal server must pass every checker, the cut
// cell must be seen down by every node, and listings and deletes must have been judged inside
// the cut window. Everything the run made must be gone afterwards.
func TestHarnessCellsPassesNormalBuild(t *testing.T) {
	requireNetns(t)
	cfg := shortRun(t, 4, 40*time.Second)
	cfg.Workloads = []string{"register", "set", "cells"}
	cfg.Nemesis = "conductor-cut,pause-leader,partition-halves"
	res := run(t, cfg)
	if res.Verdict != check.Pass || res.ExitCode != ExitPass {
		t.Fatalf("got %s (exit %d), want PASS:\n%s", res.Verdict, res.ExitCode, res.Summary)
	}
	var cells *check.CellsFinding
	for _, c := range res.Report.Checkers {
		if c.Name == "cells" {
			cells, _ = c.Details.(*check.CellsFinding)
		}
	}
	if cells == nil {
		t.Fatalf("no cells checker in the report:\n%s", res.Summary)
	}
	// The cut itself lists and deletes known servers of the cut cell inside its window, so
	// every window that opened holds judged listings and deletes refused with cell_down.
	if len(cells.Windows) == 0 {
		t.Fatalf("no conductor cut:\n%s", res.Summary)
	}
	for _, w := range cells.Windows {
		if w.Down < 0 || w.Listings == 0 || w.Refused == 0 {
			t.Fatalf("the conductor cut was not exercised: %+v", cells.Windows)
		}
	}
	if cells.Creates.OK < 20 || cells.Deletes.OK < 10 || cells.FinalListings != 1 {
		t.Fatalf("too little cells load: %+v", cells)
	}
	out, err := netns.ExecRunner(context.Background(), nil, "ip", "netns", "list")
	if err != nil || strings.Contains(string(out), netns.Prefix) {
		t.Fatalf("namespaces left behind: %q %v", out, err)
	}
}

// TestHarnessCatchesUnsafeReads is the harness's proof that it can fail: the server built
// with reads that skip the leadership check, under leader isolation and leader pauses, must
// be found not linearizable. Every isolation reads through the cut-off leader after a write
// through the new one (the register workload's stale-read probe), so the stale read does not
// depend on where the random load falls.
func TestHarnessCatchesUnsafeReads(t *testing.T) {
	requireNetns(t)
	cfg := shortRun(t, 11, 25*time.Second)
	cfg.UnsafeReads = true
	cfg.Nemesis = "isolate-leader,pause-leader"
	res := run(t, cfg)
	if res.Verdict != check.Fail || res.ExitCode != ExitFail {
		t.Fatalf("got %s (exit %d), want FAIL:\n%s", res.Verdict, res.ExitCode, res.Summary)
	}
	var illegal []string
	for _, c := range res.Report.Checkers {
		if c.Name == "linearizable" && c.Valid {
			t.Fatalf("the linearizability checker passed the unsafe build:\n%s", res.Summary)
		}
		if d, ok := c.Details.(check.LinearDetails); ok {
			illegal = d.Illegal
		}
	}
	// The failure does not rest on the random load: the key of every stale-read probe is
	// among the keys found not linearizable.
	events, err := history.Load(filepath.Join(res.Dir, HistoryFile))
	if err != nil {
		t.Fatal(err)
	}
	probes := map[string]bool{}
	for _, e := range events {
		if e.Kind == history.KindInvoke && e.Workload == "register" && strings.HasPrefix(e.Value, "probe-") {
			probes[e.Key] = true
		}
	}
	if len(probes) == 0 {
		t.Fatalf("no stale-read probe in the run:\n%s", res.Summary)
	}
	for key := range probes {
		if !slices.Contains(illegal, key) {
			t.Fatalf("probe key %s not found illegal (illegal keys: %v)", key, illegal)
		}
	}
	for _, f := range []string{HistoryFile, ResultsFile, PlotFile, HTMLFile, SummaryFile, NodesDir} {
		if _, err := os.Stat(res.Dir + "/" + f); err != nil {
			t.Errorf("a failed run must keep %s: %v", f, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Config){
		"nodes":             func(c *Config) { c.Nodes = 0 },
		"time":              func(c *Config) { c.EpisodeTime = time.Second },
		"nemesis":           func(c *Config) { c.Nemesis = "ring" },
		"workload":          func(c *Config) { c.Workloads = []string{"bank"} },
		"cut without cells": func(c *Config) { c.Nemesis = "conductor-cut" },
		"rate":              func(c *Config) { c.Rate = 0 },
	} {
		c := DefaultConfig()
		mod(c)
		if c.Validate() == nil {
			t.Errorf("%s: invalid config accepted", name)
		}
	}
	c := DefaultConfig()
	c.Workloads, c.Nemesis = []string{"register", "cells"}, "conductor-cut,kill-all"
	if err := c.Validate(); err != nil {
		t.Fatalf("cells with conductor-cut: %v", err)
	}
}

func TestExitCodes(t *testing.T) {
	if ExitCode(check.Pass) != 0 || ExitCode(check.Fail) != 1 || ExitCode(check.Incomplete) != 2 || ExitCannotRun != 3 {
		t.Fatal("exit codes")
	}
}
