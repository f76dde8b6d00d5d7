// Command cellmap-bench is cellmap's load generator.
//
//	cellmap-bench --endpoints 127.0.0.1:8480,127.0.0.1:8490 --workload lookup --concurrency 64 --duration 10s --preload
//	cellmap-bench --workload bulk --count 1000000 --batch-size 1000 --concurrency 4
//	cellmap-bench --workload create --route-writes any   # writes through every endpoint, forwarded by followers
//	cellmap-bench compare RESULT_DIR...            # ratio table cellmap/etcd (medians of rounds)
//	cellmap-bench scale --cellmapd bin/cellmapd    # 1,000,000 mappings in a local 3-node cluster
//	cellmap-bench wait --endpoints A,B,C --voters 3
//	cellmap-bench watch --server bin/cellmapd --watchers 10000   # change stream fan-out (make bench-watch)
//	cellmap-bench raft-floor --concurrency 64  # the required raft libraries alone: the write path's ceiling
//
// Workloads: lookup, lookup-stale, create, cas, mixed, bulk, list. Endpoints must be loopback
// addresses; every run is bounded by its count or duration and by 10 minutes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cellmap/cellmap/bench"
	"github.com/cellmap/cellmap/bench/floor"
)

const prog = "cellmap-bench"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "run":
			args = args[1:]
		case "compare":
			return bench.CompareCommand(prog, args[1:], stdout, stderr)
		case "scale":
			return bench.ScaleCommand(ctx, prog, args[1:], stdout, stderr)
		case "wait":
			return wait(ctx, args[1:], stderr)
		case "watch":
			return bench.WatchBenchCommand(ctx, prog, args[1:], stdout, stderr, nil)
		case "raft-floor":
			self, err := os.Executable()
			if err != nil {
				fmt.Fprintf(stderr, "%s raft-floor: %v\n", prog, err)
				return 1
			}
			return floor.Command(ctx, prog, self, args[1:], stdout, stderr)
		case "raft-floor-node":
			return floor.NodeCommand(ctx, prog, args[1:], stdout, stderr)
		case "watch-fleet":
			return bench.FleetCommand(ctx, prog, args[1:], os.Stdin, stdout, stderr)
		}
	}
	routeWrites := bench.RouteWritesLeader
	return bench.RunCommand(ctx, prog, args, stdout, stderr, func(endpoints []string, sec *bench.Security) (bench.Target, error) {
		return bench.NewSecureCellmapTarget(endpoints, sec, routeWrites)
	}, func(fs *flag.FlagSet) {
		fs.Func("route-writes", "where writes go: leader (straight to the leader's endpoint, which every answer names; the default) or any (the worker's endpoint, which forwards them to the leader)", func(v string) error {
			if err := bench.ValidRouteWrites(v); err != nil {
				return err
			}
			routeWrites = v
			return nil
		})
	})
}

// wait blocks until a cellmap cluster is ready: every endpoint knows a leader, sees the voters
// and serves a linearizable read.
func wait(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(prog+" wait", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoints := fs.String("endpoints", "127.0.0.1:8480", "comma-separated loopback addresses")
	voters := fs.Int("voters", 1, "voters every endpoint must see")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after")
	var sec bench.Security
	sec.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var eps []string
	for _, e := range strings.Split(*endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			if err := bench.CheckLoopback(e); err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", prog, err)
				return 2
			}
			eps = append(eps, e)
		}
	}
	if err := bench.WaitSecureCluster(ctx, eps, *voters, *timeout, &sec); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	return 0
}
