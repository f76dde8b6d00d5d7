package jepsen

import (
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/jepsen/check"
)

// watchFindings returns the watch checker's per-cache findings of a run.
func watchFindings(t *testing.T, res *Result) (check.Result, []check.WatchCache) {
	t.Helper()
	for _, c := range res.Report.Checkers {
		if c.Name == "watch" {
			caches, _ := c.Details.([]check.WatchCache)
			return c, caches
		}
	}
	t.Fatalf("no watch checker in the report:\n%s", res.Summary)
	return check.Result{}, nil
}

// TestHarnessWatchPassesNormalBuild runs the watch workload (three client caches starting on
// different nodes, two writers creating and deleting mappings) through leader isolation, a
// leader kill, a random partition and a leader pause (seed 5): every cache must fire each
// acknowledged write once, in order, with no gap, and converge to the final listing; the
// faults must have made caches move to other nodes. The two watches of the mux observer (one
// POST /v1/watch stream) are held to the same rules.
func TestHarnessWatchPassesNormalBuild(t *testing.T) {
	requireNetns(t)
	cfg := shortRun(t, 5, 30*time.Second)
	cfg.Workloads = []string{"watch"}
	cfg.Nemesis = "isolate-leader,kill-leader,partition-halves,pause-leader"
	res := run(t, cfg)
	if res.Verdict != check.Pass || res.ExitCode != ExitPass {
		t.Fatalf("got %s (exit %d), want PASS:\n%s", res.Verdict, res.ExitCode, res.Summary)
	}
	_, caches := watchFindings(t, res)
	var events int
	var reconnects uint64
	for _, c := range caches {
		events += c.Events
		reconnects += c.Reconnects
		if !c.Converged {
			t.Fatalf("cache %s did not converge: %+v", c.Cache, c)
		}
	}
	mux := 0
	for _, c := range caches {
		if strings.HasPrefix(c.Cache, "mux/") {
			mux++
			t.Logf("%s: %d changes, %d streams after the first", c.Cache, c.Events, c.Reconnects)
		}
	}
	if len(caches) != 5 || mux != 2 || events < 300 || res.Report.Stats.Faults < 2 {
		t.Fatalf("too little happened: %d observers (%d mux watches; want 3 caches and 2 mux watches), %d changes fired, %d faults", len(caches), mux, events, res.Report.Stats.Faults)
	}
	if reconnects == 0 {
		t.Fatalf("no cache moved to another node during the faults: %+v", caches)
	}
}
