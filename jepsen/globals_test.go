package jepsen

import (
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/jepsen/check"
)

// globalsRun is a short run of the globals workload (beside register, whose fast reads and
// writes make the lead-in before the first fault) under partitions and kills.
func globalsRun(t *testing.T, faultQuota bool) (*Result, *check.Result) {
	cfg := shortRun(t, 5, 30*time.Second)
	cfg.Workloads = []string{"register", "globals"}
	cfg.Nemesis = "partition-halves,kill-random,isolate-leader"
	cfg.FaultQuota = faultQuota
	res := run(t, cfg)
	for i, c := range res.Report.Checkers {
		if c.Name == "globals" {
			return res, &res.Report.Checkers[i]
		}
	}
	t.Fatalf("no globals checker in the report:\n%s", res.Summary)
	return nil, nil
}

// TestHarnessGlobalsPassesNormalBuild: parallel creates into anti-affinity groups and against
// a quota of 6, with deletes, under partitions, a node kill and a leader isolation: the final
// state keeps usage within the limit and equal to the live servers, and no host holds more
// members of a group than its rule. The quota must have refused creates (it was reached).
func TestHarnessGlobalsPassesNormalBuild(t *testing.T) {
	requireNetns(t)
	res, g := globalsRun(t, false)
	if res.Verdict != check.Pass || !g.Valid {
		t.Fatalf("got %s, want PASS:\n%s", res.Verdict, res.Summary)
	}
	eps := g.Details.([]check.GlobalsEpisode)
	if len(eps) != 1 || !eps[0].Final || eps[0].QuotaRefused == 0 || eps[0].Creates.OK < 6 || eps[0].Placed == 0 {
		t.Fatalf("the quota and the groups were not exercised: %+v", eps)
	}
}

// TestHarnessCatchesQuotaOvershoot is the globals checker's proof that it can fail: the server
// built with claims that ignore the limits (-tags cellmap_fault_quota) must be found over quota.
func TestHarnessCatchesQuotaOvershoot(t *testing.T) {
	requireNetns(t)
	res, g := globalsRun(t, true)
	if res.Verdict != check.Fail || res.ExitCode != ExitFail || g.Valid {
		t.Fatalf("got %s (exit %d), globals valid %v; want FAIL:\n%s", res.Verdict, res.ExitCode, g.Valid, res.Summary)
	}
	if !strings.Contains(g.Summary, "over the limit 6") {
		t.Fatalf("the globals checker failed for another reason: %s", g.Summary)
	}
}
