package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/cellmap/cellmap/jepsen"
	"github.com/cellmap/cellmap/jepsen/nemesis"
	"github.com/cellmap/cellmap/jepsen/netns"
)

// planCmd prints the fault schedule a seed gives (the same for every run with that seed).
func planCmd(args []string, stdout, stderr io.Writer) int {
	cfg := jepsen.DefaultConfig()
	fs := flag.NewFlagSet("cellmap-jepsen plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workloads := runFlags(fs, cfg)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	cfg.Workloads = strings.Split(*workloads, ",")
	if cfg.Seed == 0 {
		fmt.Fprintln(stderr, "cellmap-jepsen plan: --seed is required")
		return exitUsage
	}
	names, err := nemesis.ResolveFor(cfg.Nemesis, cfg.Nodes, cfg.Workloads)
	if err != nil {
		fmt.Fprintln(stderr, "cellmap-jepsen plan:", err)
		return exitUsage
	}
	plans, err := nemesis.NewSchedule(cfg.Seed, cfg.Episodes, names, cfg.EpisodeTime, cfg.Schedule)
	if err != nil {
		fmt.Fprintln(stderr, "cellmap-jepsen plan:", err)
		return exitUsage
	}
	for _, p := range plans {
		fmt.Fprintln(stdout, p)
	}
	return 0
}

// probeCmd says whether this machine can run the harness.
func probeCmd(ctx context.Context, stdout, _ io.Writer) int {
	if err := netns.Probe(ctx); err != nil {
		fmt.Fprintf(stdout, "cellmap-jepsen: %v\n", err)
		return jepsen.ExitCannotRun
	}
	fmt.Fprintln(stdout, "cellmap-jepsen: this machine can run the harness (root, network namespaces, nftables)")
	return 0
}
