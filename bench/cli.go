package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// NewTargetFunc builds a target for the endpoints of a run with the security material of its
// flags (zero for a plaintext run).
type NewTargetFunc func(endpoints []string, sec *Security) (Target, error)

// RunCommand is the "run" command line shared by cellmap-bench and etcd-bench: it parses the
// flags into a Config, runs the workload against the target newTarget builds and prints the
// result (a table, or JSON with --json; --out also saves the JSON). targetFlags register the
// flags of one target's own (cellmap-bench --route-writes). Exit status: 0 done, 1 failed or
// no operation succeeded, 2 bad usage.
func RunCommand(ctx context.Context, prog string, args []string, stdout, stderr io.Writer, newTarget NewTargetFunc, targetFlags ...func(*flag.FlagSet)) int {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoints := fs.String("endpoints", strings.Join(cfg.Endpoints, ","), "comma-separated loopback addresses; clients spread over them")
	fs.StringVar(&cfg.Workload, "workload", cfg.Workload, "one of "+strings.Join(Workloads, ", "))
	fs.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "closed-loop clients (bulk: batches in flight)")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, fmt.Sprintf("measured run length (0 with --count: until the count; capped at %v)", MaxDuration))
	fs.Int64Var(&cfg.Count, "count", 0, "operations to run (bulk: mappings to write, default --keys); 0: by duration")
	fs.DurationVar(&cfg.Warmup, "warmup", 0, "unmeasured run before the measured one")
	fs.IntVar(&cfg.Keys, "keys", cfg.Keys, "key space of lookups, cas and mixed writes (bulk and --preload write keys 0..keys-1)")
	fs.IntVar(&cfg.ValueSize, "value-size", cfg.ValueSize, fmt.Sprintf("size of the user_id value written, 1..%d bytes", MaxValueSize))
	fs.BoolVar(&cfg.Preload, "preload", false, "load the key space through transactions before the run")
	fs.IntVar(&cfg.BatchSize, "batch-size", cfg.BatchSize, "mappings per transaction of bulk and --preload")
	fs.Float64Var(&cfg.WriteRatio, "write-ratio", cfg.WriteRatio, "share of writes of the mixed workload")
	fs.IntVar(&cfg.ListLimit, "list-limit", cfg.ListLimit, "page size of the list workload")
	fs.StringVar(&cfg.ListProject, "list-project", "", "project of the list workload (default: all_tenants=true)")
	fs.DurationVar(&cfg.OpTimeout, "op-timeout", cfg.OpTimeout, "bound of one operation")
	fs.Int64Var(&cfg.Seed, "seed", cfg.Seed, "seed of key choices")
	fs.StringVar(&cfg.Label, "label", "", "tag of the result (e.g. round-1)")
	var sec Security
	sec.Flags(fs)
	for _, f := range targetFlags {
		f(fs)
	}
	name := fs.String("target-name", "", "name of the target in the result (default: cellmap or etcd), e.g. cellmap-plain")
	pids := fs.String("server-pids", "", "comma-separated pids of local server processes whose CPU time to report")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	out := fs.String("out", "", "also write the JSON result to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	for _, p := range splitList(*pids) {
		pid, err := strconv.Atoi(p)
		if err != nil || pid <= 0 {
			fmt.Fprintf(stderr, "%s: bad pid %q\n", prog, p)
			return 2
		}
		cfg.ServerPIDs = append(cfg.ServerPIDs, pid)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments: %s\n", prog, strings.Join(fs.Args(), " "))
		return 2
	}
	cfg.Endpoints = splitList(*endpoints)
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 2
	}
	t, err := newTarget(cfg.Endpoints, &sec)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	defer t.Close()
	if *name != "" {
		t = renamed{Target: t, name: *name}
	}
	res, err := Run(ctx, cfg, t)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	if *out != "" {
		if err := writeJSONFile(*out, res); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return 1
		}
	}
	if *asJSON {
		err = res.WriteJSON(stdout)
	} else {
		err = res.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	if res.Skipped == "" && res.Ops+res.Conflicts == 0 {
		fmt.Fprintf(stderr, "%s: no operation succeeded\n", prog)
		return 1
	}
	return 0
}

// renamed reports a target under another name, so that two configurations of one system (e.g.
// cellmap with and without TLS) compare as two targets.
type renamed struct {
	Target
	name string
}

func (r renamed) Name() string { return r.name }

// CompareCommand prints the ratio table of two targets from result files:
//
//	compare [--a cellmap] [--b etcd] [--json] DIR...
func CompareCommand(prog string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(prog+" compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	a := fs.String("a", "cellmap", "target in the numerator")
	b := fs.String("b", "etcd", "target in the denominator")
	asJSON := fs.Bool("json", false, "print the comparison as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(stderr, "usage: %s compare [--a A] [--b B] [--json] DIR...\n", prog)
		return 2
	}
	var all []*Result
	for _, dir := range fs.Args() {
		rs, err := ReadResults(dir)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return 1
		}
		all = append(all, rs...)
	}
	cmp, err := Compare(all, *a, *b)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	if *asJSON {
		err = writeJSON(stdout, cmp)
	} else {
		err = cmp.WriteTable(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	return 0
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func writeJSONFile(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := writeJSON(f, v); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
