// Command cellmap-jepsen is cellmap's chaos and partition harness: it runs a cellmapd
// cluster in network namespaces under client load and a seeded fault schedule, then checks
// the history (linearizability, lost writes, stale reads, leaders, convergence).
//
//	cellmap-jepsen run [--nodes 3] [--time 60s] [--episodes 3] [--nemesis mixed|all|LIST] [--seed S] [--out DIR] [--unsafe-reads]
//	cellmap-jepsen check DIR        # re-check a run's history.jsonl offline
//	cellmap-jepsen plan [--seed S]  # print the fault schedule a seed gives
//	cellmap-jepsen probe            # can this machine run the harness?
//
// Exit codes: 0 PASS, 1 FAIL, 2 INCOMPLETE, 3 cannot run here (no root or no network
// namespaces), 64 usage error.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// exitUsage is the exit code of a bad command line.
const exitUsage = 64

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills at once
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return runCmd(ctx, args[1:], stdout, stderr)
	case "check":
		return checkCmd(args[1:], stdout, stderr)
	case "plan":
		return planCmd(args[1:], stdout, stderr)
	case "probe":
		return probeCmd(ctx, stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "cellmap-jepsen: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: cellmap-jepsen <command> [flags]

commands:
  run     start a cluster in network namespaces, run workloads under faults, check the history
  check   re-check a run directory offline: cellmap-jepsen check DIR
  plan    print the fault schedule of a seed
  probe   say whether this machine can run the harness (root, network namespaces, nft)

exit codes: 0 PASS, 1 FAIL, 2 INCOMPLETE, 3 cannot run here, 64 usage
run "cellmap-jepsen run -h" for the run flags
`)
}
