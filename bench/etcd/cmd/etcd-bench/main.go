// Command etcd-bench runs cellmap-bench's workloads against etcd through etcd's native gRPC
// client, with the same flags and the same runner as cellmap-bench:
//
//	etcd-bench --endpoints 127.0.0.1:2379,127.0.0.1:22379 --workload lookup --concurrency 64 --duration 10s
//	etcd-bench wait --endpoints A,B,C --members 3
//	etcd-bench compare RESULT_DIR...
//	etcd-bench watch --server bin/etcd --watchers 10000     # etcd's side of make bench-watch
//
// Workloads: lookup (linearizable Get), lookup-stale (serializable Get), create (Put), cas
// (Txn compare ModRevision then Put), mixed (90 % Get / 10 % Put), bulk (Txn of puts).
//
// Workers share one gRPC connection per endpoint (one clientv3 client each), as a service
// would; ETCD_BENCH_CONNS=N opens N connections per endpoint instead.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cellmap/cellmap/bench"
	etcdbench "github.com/cellmap/cellmap/bench/etcd"
)

const prog = "etcd-bench"

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
		case "wait":
			return wait(ctx, args[1:], stderr)
		case "auth-setup":
			return authSetup(ctx, args[1:], stderr)
		case "watch":
			return bench.WatchBenchCommand(ctx, prog, args[1:], stdout, stderr, etcdbench.WatchSystem)
		case "watch-fleet":
			return etcdbench.FleetCommand(ctx, prog, args[1:], os.Stdin, stdout, stderr)
		}
	}
	conns := 1
	if v := os.Getenv("ETCD_BENCH_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 256 {
			fmt.Fprintf(stderr, "%s: ETCD_BENCH_CONNS must be in 1..256\n", prog)
			return 2
		}
		conns = n
	}
	return bench.RunCommand(ctx, prog, args, stdout, stderr, func(endpoints []string, sec *bench.Security) (bench.Target, error) {
		return etcdbench.NewConns(endpoints, conns, sec)
	})
}

func wait(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(prog+" wait", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoints := fs.String("endpoints", "127.0.0.1:2379", "comma-separated loopback client addresses")
	members := fs.Int("members", 1, "members every endpoint must list")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after")
	var sec bench.Security
	sec.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var eps []string
	for _, e := range strings.Split(*endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			eps = append(eps, e)
		}
	}
	if err := etcdbench.WaitSecureCluster(ctx, eps, *members, *timeout, &sec); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	return 0
}

// authSetup turns etcd's authentication on with a root user and a benchmark user limited to the
// mappings' prefix:
//
//	etcd-bench auth-setup --endpoint A --ca-cert ca.pem --root-password-file F --user bench --password-file G
func authSetup(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(prog+" auth-setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "127.0.0.1:2379", "loopback client address of one member")
	rootFile := fs.String("root-password-file", "", "file holding the password of etcd's root user")
	var sec bench.Security
	sec.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := bench.CheckLoopback(*endpoint); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 2
	}
	password, err := sec.Password()
	if err == nil && password == "" {
		err = fmt.Errorf("%w: --user and --password-file are required", bench.ErrInvalidConfig)
	}
	var root string
	if err == nil {
		root, err = (&bench.Security{User: "root", PasswordFile: *rootFile}).Password()
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := etcdbench.EnableAuth(ctx, *endpoint, &sec, etcdbench.Auth{RootPassword: root, User: sec.User, Password: password}); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	return 0
}
