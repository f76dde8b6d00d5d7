package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cellmap/cellmap/jepsen"
	"github.com/cellmap/cellmap/jepsen/check"
)

func checkCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cellmap-jepsen check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("check-timeout", 0, "time budget of the linearizability check (default: the run's)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: cellmap-jepsen check [--check-timeout D] DIR")
		return exitUsage
	}
	dir := fs.Arg(0)
	res, err := jepsen.Check(dir, check.Options{CheckTimeout: *timeout})
	if res == nil || res.Report == nil {
		fmt.Fprintf(stdout, "cellmap-jepsen check: %v\n0 passed, 0 failed\n", err)
		return jepsen.ExitIncomplete
	}
	if err != nil {
		fmt.Fprintf(stderr, "cellmap-jepsen check: writing views: %v\n", err)
	}
	if recorded := recordedVerdict(dir); recorded != "" {
		same := "matches"
		if recorded != string(res.Verdict) {
			same = "DIFFERS FROM"
		}
		fmt.Fprintf(stdout, "re-checked %s at %s: verdict %s %s the recorded %s\n", dir, time.Now().Format(time.RFC3339), res.Verdict, same, recorded)
	}
	fmt.Fprint(stdout, res.Summary)
	return res.ExitCode
}

// recordedVerdict reads the verdict results.json recorded ("" when there is none).
func recordedVerdict(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, jepsen.ResultsFile))
	if err != nil {
		return ""
	}
	var v struct {
		Verdict string `json:"verdict"`
	}
	json.Unmarshal(b, &v)
	return v.Verdict
}
