package check

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/cellmap/cellmap/jepsen/history"
)

// validity lists why the run cannot vouch for anything (the INCOMPLETE reasons): the cluster
// never became healthy, a workload's setup failed, an episode had too few successful
// operations before its first fault, an episode's set, cells or watch workload had no final
// listing, or the run did not end.
func validity(events []history.Event, info RunInfo) []string {
	var reasons []string
	healthy, ended := false, false
	for _, e := range events {
		if e.Kind != history.KindPhase {
			continue
		}
		switch e.F {
		case history.PhaseHealthy:
			healthy = true
		case history.PhaseUnhealthy:
			reasons = append(reasons, "the cluster never became healthy: "+e.Error)
		case history.PhaseSetupFailed:
			reasons = append(reasons, "a workload's setup failed: "+e.Error)
		case history.PhaseRunEnd:
			ended = true
		}
	}
	if !healthy && len(reasons) == 0 {
		reasons = append(reasons, "the cluster never became healthy")
	}
	if !ended {
		reasons = append(reasons, "the run did not finish (interrupted)")
	}
	reasons = append(reasons, leadIn(events, info.MinOpsBeforeFault)...)
	reasons = append(reasons, missingListings(events)...)
	reasons = append(reasons, missingCellsListings(events)...)
	reasons = append(reasons, missingWatchListings(events)...)
	reasons = append(reasons, missingGlobalsFinal(events)...)
	return reasons
}

// leadIn checks every episode's successful operations before its first fault.
func leadIn(events []history.Event, min int) []string {
	type ep struct {
		start, fault int64
		ok           int
	}
	eps := map[int]*ep{}
	for _, e := range events {
		switch {
		case e.Kind == history.KindPhase && e.F == history.PhaseEpisodeStart:
			eps[e.Episode] = &ep{start: e.Time, fault: -1}
		case e.Kind == history.KindNemesis && e.Phase == history.PhaseStart && !strings.HasPrefix(e.Detail, "skipped"):
			if p := eps[e.Episode]; p != nil && p.fault < 0 {
				p.fault = e.Time
			}
		}
	}
	for _, e := range events {
		if e.Kind != history.KindOK || e.Workload == "" {
			continue
		}
		if p := eps[e.Episode]; p != nil && p.fault >= 0 && e.Time < p.fault {
			p.ok++
		}
	}
	var out []string
	for _, n := range sortedInts(eps) {
		if p := eps[n]; p.fault >= 0 && p.ok < min {
			out = append(out, fmt.Sprintf("episode %d: only %d operations succeeded before the first fault (want %d)", n, p.ok, min))
		}
	}
	return out
}

// missingListings finds set projects with adds but no successful final listing.
func missingListings(events []history.Event) []string {
	adds, listed := map[string]bool{}, map[string]bool{}
	for _, op := range history.Ops(events) {
		if op.Invoke.Workload != "set" {
			continue
		}
		switch op.Invoke.F {
		case "add":
			adds[op.Invoke.Key] = true
		case "list":
			if op.Outcome() == history.KindOK {
				listed[op.Invoke.Key] = true
			}
		}
	}
	var out []string
	for _, p := range slices.Sorted(maps.Keys(adds)) {
		if !listed[p] {
			out = append(out, fmt.Sprintf("set %s: no final listing succeeded", p))
		}
	}
	return out
}

func sortedInts[V any](m map[int]V) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// missingCellsListings finds episodes where the cells workload ran but no final listing
// succeeded.
func missingCellsListings(events []history.Event) []string {
	ran, listed := map[int]bool{}, map[int]bool{}
	for _, op := range history.Ops(events) {
		if op.Invoke.Workload != cellsWorkload {
			continue
		}
		ran[op.Invoke.Episode] = true
		if op.Invoke.F == "list" && op.Invoke.Value == history.ListFinal && op.Outcome() == history.KindOK {
			listed[op.Invoke.Episode] = true
		}
	}
	var out []string
	for _, ep := range sortedInts(ran) {
		if !listed[ep] {
			out = append(out, fmt.Sprintf("cells: episode %d: no final listing succeeded", ep))
		}
	}
	return out
}
