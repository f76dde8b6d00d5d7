// Package report writes a run's artifacts: the porcupine visualisation of the register
// history with fault windows annotated, the latency plot, results.json and a text summary.
package report

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/cellmap/cellmap/jepsen/check"
	"github.com/cellmap/cellmap/jepsen/history"
)

// WriteVisualization writes porcupine's HTML view of the register history to path. It shows
// the keys that failed (or timed out) or, when none did, the maxKeys keys with the most
// unknown outcomes, so the file stays readable; fault windows and run phases are
// annotations.
func WriteVisualization(path string, events []history.Event, rep *check.Report, maxKeys int, timeout time.Duration) error {
	byKey := check.RegisterOps(events)
	keys := pickKeys(byKey, rep, maxKeys)
	var ops []porcupine.Operation
	for _, k := range keys {
		ops = append(ops, byKey[k]...)
	}
	model := check.RegisterModel()
	_, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
	info.AddAnnotations(annotations(events))
	return porcupine.VisualizePath(model, info, path)
}

func pickKeys(byKey map[string][]porcupine.Operation, rep *check.Report, max int) []string {
	var bad []string
	for _, c := range rep.Checkers {
		if d, ok := c.Details.(check.LinearDetails); ok {
			bad = append(append(bad, d.Illegal...), d.TimedOut...)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		if len(bad) > max {
			bad = bad[:max]
		}
		return bad
	}
	keys := make([]string, 0, len(byKey))
	unknown := map[string]int{}
	for k, ops := range byKey {
		keys = append(keys, k)
		for _, op := range ops {
			if op.Output.(check.RegOutput).Status == check.OutUnknown {
				unknown[k]++
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if unknown[keys[i]] != unknown[keys[j]] {
			return unknown[keys[i]] > unknown[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) > max {
		keys = keys[:max]
	}
	return keys
}

// annotations turns fault windows and run phases into porcupine annotations.
func annotations(events []history.Event) []porcupine.Annotation {
	var out []porcupine.Annotation
	last := history.Last(events)
	for _, w := range history.Windows(events) {
		end := w.End
		if end < 0 {
			end = last
		}
		c := faultColor(w.Name)
		out = append(out, porcupine.Annotation{
			Tag: "nemesis", Start: w.Start, End: end,
			Description: fmt.Sprintf("%s %s", w.Name, strings.Join(w.Targets, ",")),
			Details: fmt.Sprintf("fault %d: %s\nstop: %s\n%.1fs - %.1fs", w.Fault, w.Detail, w.StopDetail,
				float64(w.Start)/1e9, float64(end)/1e9),
			BackgroundColor: fmt.Sprintf("rgba(%d,%d,%d,0.35)", c.R, c.G, c.B),
		})
	}
	for _, e := range events {
		if e.Kind != history.KindPhase {
			continue
		}
		switch e.F {
		case history.PhaseEpisodeStart, history.PhaseWorkloadStop, history.PhaseHealed, history.PhaseConverged:
			desc := fmt.Sprintf("episode %d %s", e.Episode, e.F)
			out = append(out, porcupine.Annotation{Tag: "run", Start: e.Time, Description: desc,
				Details: strings.TrimSpace(e.Detail + " " + e.Error)})
		}
	}
	return out
}
