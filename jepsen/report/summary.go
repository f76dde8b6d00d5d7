package report

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/cellmap/cellmap/jepsen/check"
)

// Summary renders a report for humans. Its last line is "N passed, N failed".
func Summary(rep *check.Report) string {
	var b strings.Builder
	s := rep.Stats
	fmt.Fprintf(&b, "run: seed %d, %d nodes, %d episodes, %.0fs\n", rep.Info.Seed, rep.Info.Nodes, s.Episodes, s.DurationS)
	fmt.Fprintf(&b, "ops: %d (ok %d, fail %d, info %d):", s.Ops, s.Outcomes.OK, s.Outcomes.Fail, s.Outcomes.Info)
	for _, k := range sortedNames(s.ByOp) {
		c := s.ByOp[k]
		fmt.Fprintf(&b, " %s %d/%d/%d", k, c.OK, c.Fail, c.Info)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "faults: %d", s.Faults)
	var kinds []string
	for _, k := range sortedNames(s.FaultKinds) {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, s.FaultKinds[k]))
	}
	if len(kinds) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(kinds, ", "))
	}
	if s.Skipped > 0 {
		fmt.Fprintf(&b, ", %d skipped", s.Skipped)
	}
	b.WriteString("\n")
	for _, c := range rep.Checkers {
		mark := "ok  "
		if !c.Valid {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s %-13s %s\n", mark, c.Name, c.Summary)
	}
	fmt.Fprintf(&b, "verdict: %s\n", rep.Verdict)
	for _, r := range rep.Reasons {
		fmt.Fprintf(&b, "  because %s\n", r)
	}
	fmt.Fprintf(&b, "%d passed, %d failed\n", rep.Passed, rep.Failed)
	return b.String()
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// WriteJSON writes v as indented JSON.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
