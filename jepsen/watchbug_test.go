//go:build watchbug

package jepsen

import (
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/jepsen/check"
)

// TestHarnessCatchesWatchBug is the watch checker's proof that it can fail: built with the
// watchbug tag (go test -tags watchbug -run TestHarnessCatchesWatchBug), every client cache
// drops the third change it applies, and the run must FAIL with that change missed by every
// cache (and the caches not converged when the dropped change is still in the final state).
func TestHarnessCatchesWatchBug(t *testing.T) {
	requireNetns(t)
	cfg := shortRun(t, 5, 12*time.Second)
	cfg.Workloads = []string{"watch"}
	cfg.Nemesis = "kill-random"
	res := run(t, cfg)
	if res.Verdict != check.Fail || res.ExitCode != ExitFail {
		t.Fatalf("got %s (exit %d), want FAIL:\n%s", res.Verdict, res.ExitCode, res.Summary)
	}
	wc, caches := watchFindings(t, res)
	if wc.Valid || len(caches) == 0 {
		t.Fatalf("the watch checker passed the bug: %s", wc.Summary)
	}
	for _, c := range caches {
		if !droppedOne(c.Missed) {
			t.Fatalf("cache %s: want exactly the one dropped change missed, got %+v", c.Cache, c)
		}
	}
	for _, c := range res.Report.Checkers {
		if c.Name != "watch" && !c.Valid {
			t.Fatalf("only the watch checker may fail, %s did: %s", c.Name, c.Summary)
		}
	}
}

// droppedOne says whether missed ("op uuid@revision" entries) is what dropping one change
// leaves: that change alone, or a dropped create followed by the delete of the same mapping
// (a cache that never held a mapping has nothing to delete, so it cannot fire that delete).
func droppedOne(missed []string) bool {
	switch len(missed) {
	case 1:
		return strings.HasPrefix(missed[0], "create ") || strings.HasPrefix(missed[0], "delete ")
	case 2:
		created, ok1 := strings.CutPrefix(missed[0], "create ")
		deleted, ok2 := strings.CutPrefix(missed[1], "delete ")
		key := func(s string) string { k, _, _ := strings.Cut(s, "@"); return k }
		return ok1 && ok2 && key(created) == key(deleted)
	}
	return false
}
