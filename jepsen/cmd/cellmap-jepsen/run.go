package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cellmap/cellmap/jepsen"
	"github.com/cellmap/cellmap/jepsen/nemesis"
	"github.com/cellmap/cellmap/jepsen/workload"
)

// runFlags binds the run command's flags to a config.
func runFlags(fs *flag.FlagSet, cfg *jepsen.Config) (workloads *string) {
	fs.IntVar(&cfg.Nodes, "nodes", cfg.Nodes, "cluster size (3 for CI, 5 for long runs)")
	fs.DurationVar(&cfg.EpisodeTime, "time", cfg.EpisodeTime, "length of each episode's load and faults")
	fs.IntVar(&cfg.Episodes, "episodes", cfg.Episodes, "number of episodes (each ends with a full heal, convergence check and final reads)")
	fs.StringVar(&cfg.Nemesis, "nemesis", cfg.Nemesis, "faults: mixed, all, none or a comma list of: "+strings.Join(nemesis.Names(), ", "))
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the fault schedule and the workloads (0: random, printed)")
	fs.StringVar(&cfg.Out, "out", cfg.Out, "run directory (default ./jepsen-runs/<timestamp>-seed<S>)")
	fs.BoolVar(&cfg.UnsafeReads, "unsafe-reads", cfg.UnsafeReads, "build cellmapd with reads that skip the leadership check (the run must FAIL)")
	fs.BoolVar(&cfg.FaultQuota, "fault-quota", cfg.FaultQuota, "build cellmapd with claims that ignore quota limits (a run of the globals workload must FAIL)")
	fs.StringVar(&cfg.ServerBinary, "server-bin", cfg.ServerBinary, "use this cellmapd instead of building one")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "client operations per second, all workloads together")
	fs.DurationVar(&cfg.CheckTimeout, "check-timeout", cfg.CheckTimeout, "time budget of the linearizability check (running out is a FAIL)")
	fs.BoolVar(&cfg.KeepAll, "keep", cfg.KeepAll, "keep node logs, data and the HTML view even when the run passes")
	return fs.String("workloads", strings.Join(cfg.Workloads, ","), "comma list of workloads: "+strings.Join(workload.Names(), ", ")+
		" (cells starts two cell conductors and brings the conductor-cut nemesis)")
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg := jepsen.DefaultConfig()
	fs := flag.NewFlagSet("cellmap-jepsen run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workloads := runFlags(fs, cfg)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cellmap-jepsen run: unexpected arguments %v\n", fs.Args())
		return exitUsage
	}
	cfg.Workloads = strings.Split(*workloads, ",")
	cfg.Log = stderr
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "cellmap-jepsen run:", err)
		return exitUsage
	}
	start := time.Now()
	res, err := jepsen.Run(ctx, cfg)
	if errors.Is(err, jepsen.ErrCannotRun) {
		fmt.Fprintf(stdout, "cellmap-jepsen: %v\n", err)
		return jepsen.ExitCannotRun
	}
	if err != nil {
		fmt.Fprintf(stdout, "cellmap-jepsen: no verdict: %v\n", err)
		if res != nil && res.Dir != "" {
			fmt.Fprintf(stdout, "run directory: %s\n", res.Dir)
		}
		fmt.Fprintln(stdout, "0 passed, 0 failed")
		if res != nil {
			return res.ExitCode
		}
		return jepsen.ExitIncomplete
	}
	fmt.Fprintf(stdout, "run directory: %s (%.0fs)\n", res.Dir, time.Since(start).Seconds())
	fmt.Fprint(stdout, res.Summary)
	return res.ExitCode
}
