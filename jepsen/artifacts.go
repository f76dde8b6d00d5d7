package jepsen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cellmap/cellmap/jepsen/check"
	"github.com/cellmap/cellmap/jepsen/history"
	"github.com/cellmap/cellmap/jepsen/report"
)

// Artifact file names in a run directory.
const (
	HistoryFile = "history.jsonl"
	ResultsFile = "results.json"
	SummaryFile = "summary.txt"
	PlotFile    = "latency.png"
	HTMLFile    = "linearizability.html"
	NodesDir    = "nodes"
)

// visualKeys bounds the keys shown in the HTML view.
const visualKeys = 12

// ExitCode maps a verdict to the process exit code.
func ExitCode(v check.Verdict) int {
	switch v {
	case check.Pass:
		return ExitPass
	case check.Fail:
		return ExitFail
	}
	return ExitIncomplete
}

// results is results.json.
type results struct {
	*check.Report
	ExitCode  int       `json:"exit_code"`
	Dir       string    `json:"dir"`
	StartedAt time.Time `json:"started_at"`
	WallS     float64   `json:"wall_s"`
	Artifacts []string  `json:"artifacts"`
}

// finish checks the recorded history (read back from the file, exactly what `check` sees)
// and writes the artifacts.
func (r *runner) finish() (*Result, error) {
	res, events, err := analyzeDir(r.dir, check.Options{})
	if err != nil {
		return &Result{ExitCode: ExitIncomplete, Dir: r.dir}, err
	}
	keep := r.cfg.KeepAll || res.Verdict != check.Pass
	if err := writeViews(r.dir, events, res.Report, keep); err != nil {
		r.logf("writing artifacts: %v", err)
	}
	if !keep {
		os.RemoveAll(filepath.Join(r.dir, NodesDir))
	}
	os.WriteFile(filepath.Join(r.dir, SummaryFile), []byte(res.Summary), 0o644)
	out := results{Report: res.Report, ExitCode: res.ExitCode, Dir: r.dir, StartedAt: r.start,
		WallS: time.Since(r.start).Seconds(), Artifacts: listArtifacts(r.dir)}
	if err := report.WriteJSON(filepath.Join(r.dir, ResultsFile), out); err != nil {
		r.logf("writing %s: %v", ResultsFile, err)
	}
	return res, nil
}

// analyzeDir loads a run directory's history and checks it.
func analyzeDir(dir string, opt check.Options) (*Result, []history.Event, error) {
	events, err := history.Load(filepath.Join(dir, HistoryFile))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrHarness, err)
	}
	if len(events) == 0 {
		return nil, nil, fmt.Errorf("%w: %s is empty", ErrHarness, HistoryFile)
	}
	rep := check.Analyze(events, opt)
	return &Result{Verdict: rep.Verdict, ExitCode: ExitCode(rep.Verdict), Dir: dir, Report: rep,
		Summary: report.Summary(rep)}, events, nil
}

// writeViews writes the latency plot and, when html is set, the porcupine view.
func writeViews(dir string, events []history.Event, rep *check.Report, html bool) error {
	var errs []error
	errs = append(errs, report.WriteLatencyPNG(filepath.Join(dir, PlotFile), events))
	if html {
		errs = append(errs, report.WriteVisualization(filepath.Join(dir, HTMLFile), events, rep, visualKeys, time.Minute))
	}
	return errors.Join(errs...)
}

func listArtifacts(dir string) []string {
	out := []string{ResultsFile}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != ResultsFile {
			out = append(out, e.Name())
		}
	}
	return out
}

// Check re-checks a run directory offline (history.jsonl) and rewrites its HTML view and
// latency plot. The verdict is the one the run reported.
func Check(dir string, opt check.Options) (*Result, error) {
	res, events, err := analyzeDir(dir, opt)
	if err != nil {
		return &Result{ExitCode: ExitIncomplete, Dir: dir}, err
	}
	return res, writeViews(dir, events, res.Report, true)
}
