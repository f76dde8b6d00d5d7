package check

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/jepsen/history"
)

// Verdict is a run's outcome.
type Verdict string

// Verdicts.
const (
	Pass       Verdict = "PASS"
	Fail       Verdict = "FAIL"
	Incomplete Verdict = "INCOMPLETE"
)

// Result is one checker's finding.
type Result struct {
	Name    string `json:"name"`
	Valid   bool   `json:"valid"`
	Summary string `json:"summary"`
	Details any    `json:"details,omitempty"`
}

// RunInfo is what the checkers read from the run-start event's data (the run's settings).
type RunInfo struct {
	Seed              uint64   `json:"seed"`
	Nodes             int      `json:"nodes"`
	Workloads         []string `json:"workloads"`
	MinOpsBeforeFault int      `json:"min_ops_before_fault"`
	CheckTimeoutMS    int64    `json:"check_timeout_ms"`
}

// Report is the analysis of a history.
type Report struct {
	Verdict Verdict  `json:"verdict"`
	Reasons []string `json:"reasons,omitempty"`
	// Checkers are the checkers' results; Passed and Failed count them.
	Checkers []Result `json:"checkers"`
	Passed   int      `json:"passed"`
	Failed   int      `json:"failed"`
	Stats    Stats    `json:"stats"`
	Info     RunInfo  `json:"run"`
}

// Options tune the analysis; zero values take the run's recorded settings.
type Options struct {
	// CheckTimeout overrides the linearizability checker's time budget.
	CheckTimeout time.Duration
}

// Analyze checks a history and decides the verdict: FAIL when any checker fails (a
// linearizability violation, a checker timeout, a lost or unexpected element, a non-monotonic
// index, two leaders in one term, diverging replicas, an unexpected membership change);
// otherwise INCOMPLETE when the run could not show anything (cluster never healthy, too few
// successful operations before the first fault, no final listing, run interrupted); else PASS.
func Analyze(events []history.Event, opt Options) *Report {
	info := runInfo(events)
	timeout := opt.CheckTimeout
	if timeout <= 0 {
		timeout = time.Duration(info.CheckTimeoutMS) * time.Millisecond
	}
	if timeout <= 0 {
		timeout = time.Minute
	}
	r := &Report{Info: info, Stats: ComputeStats(events)}
	for _, c := range Catalog() {
		if c.Workload == "" || ran(info.Workloads, c.Workload) {
			r.Checkers = append(r.Checkers, c.Check(events, timeout))
		}
	}
	for _, c := range r.Checkers {
		if c.Valid {
			r.Passed++
		} else {
			r.Failed++
			r.Reasons = append(r.Reasons, fmt.Sprintf("%s: %s", c.Name, c.Summary))
		}
	}
	incomplete := validity(events, info)
	switch {
	case r.Failed > 0:
		r.Verdict = Fail
	case len(incomplete) > 0:
		r.Verdict = Incomplete
		r.Reasons = append(r.Reasons, incomplete...)
	default:
		r.Verdict = Pass
	}
	return r
}

// Checker is one checker of the catalog.
type Checker struct {
	// Workload is the workload whose operations it checks ("" for the cluster-wide checkers,
	// which always run).
	Workload string
	// Check judges a history; timeout bounds checkers that search (linearizability).
	Check func(events []history.Event, timeout time.Duration) Result
}

// Catalog lists the checkers in report order. A new workload adds its checker here under
// the workload's name.
func Catalog() []Checker {
	return []Checker{
		{"register", checkLinearizable},
		{"set", func(e []history.Event, _ time.Duration) Result { return checkSet(e) }},
		{"cells", func(e []history.Event, _ time.Duration) Result { return checkCells(e) }},
		{"watch", func(e []history.Event, _ time.Duration) Result { return checkWatch(e) }},
		{"globals", func(e []history.Event, _ time.Duration) Result { return checkGlobals(e) }},
		{"register", func(e []history.Event, _ time.Duration) Result { return checkMonotonic(e) }},
		{"", func(e []history.Event, _ time.Duration) Result { return checkLeaders(e) }},
		{"", func(e []history.Event, _ time.Duration) Result { return checkConvergence(e) }},
		{"", func(e []history.Event, _ time.Duration) Result { return checkMembership(e) }},
	}
}

// legacyWorkloads are the workloads of a history that does not list its workloads (it predates
// the list, when these were all there was).
var legacyWorkloads = []string{"register", "set"}

// ran reports whether workload w ran.
func ran(workloads []string, w string) bool {
	if len(workloads) == 0 {
		workloads = legacyWorkloads
	}
	for _, x := range workloads {
		if x == w {
			return true
		}
	}
	return false
}

// runInfo decodes the run-start event's data.
func runInfo(events []history.Event) RunInfo {
	var info RunInfo
	for _, e := range events {
		if e.Kind == history.KindPhase && e.F == history.PhaseRunStart && len(e.Data) > 0 {
			json.Unmarshal(e.Data, &info)
			break
		}
	}
	return info
}
