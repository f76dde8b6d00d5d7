package netns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// reapRounds bounds how often Reap re-lists links that the kernel removes asynchronously.
const reapRounds = 50

// Reap removes everything with [Prefix]: it kills the processes inside cmj- namespaces (by
// pid), deletes those namespaces and any cmj- links left in the root namespace. Use it at
// start (leftovers of a crashed run) and at exit.
func Reap(ctx context.Context, run Runner) error {
	if run == nil {
		run = ExecRunner
	}
	var errs []error
	out, err := run(ctx, nil, "ip", "netns", "list")
	if err != nil {
		return err
	}
	for _, ns := range namespaces(string(out)) {
		if pids, err := run(ctx, nil, "ip", "netns", "pids", ns); err == nil {
			for _, f := range strings.Fields(string(pids)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
					syscall.Kill(pid, syscall.SIGCONT)
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		if _, err := run(ctx, nil, "ip", "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	for round := 0; round < reapRounds; round++ {
		out, err := run(ctx, nil, "ip", "-o", "link", "show")
		if err != nil {
			errs = append(errs, err)
			break
		}
		links := links(string(out))
		if len(links) == 0 {
			break
		}
		for _, l := range links {
			run(ctx, nil, "ip", "link", "del", l)
		}
		if round == reapRounds-1 {
			errs = append(errs, fmt.Errorf("netns: links still present: %v", links))
			break
		}
		select {
		case <-ctx.Done():
			return errors.Join(append(errs, ctx.Err())...)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.Join(errs...)
}

// namespaces picks the cmj- names out of `ip netns list` output ("name (id: 3)" lines).
func namespaces(out string) []string {
	var names []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasPrefix(f[0], Prefix) {
			names = append(names, f[0])
		}
	}
	return names
}

// links picks the cmj- interface names out of `ip -o link show` output
// ("7: cmj-v1@if2: <...> ..." lines).
func links(out string) []string {
	var names []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name := strings.TrimSuffix(f[1], ":")
		if i := strings.IndexByte(name, '@'); i >= 0 {
			name = name[:i]
		}
		if strings.HasPrefix(name, Prefix) {
			names = append(names, name)
		}
	}
	return names
}

// Probe checks that this machine can host the test network: root, the ip and nft commands,
// and network namespaces. The error wraps [ErrCannotRun] and says why.
func Probe(ctx context.Context) error {
	if uid := os.Geteuid(); uid != 0 {
		return fmt.Errorf("%w: needs root for network namespaces (running as uid %d)", ErrCannotRun, uid)
	}
	for _, c := range []string{"ip", "nft", "ss"} {
		if _, err := exec.LookPath(c); err != nil {
			return fmt.Errorf("%w: the %s command is missing (install iproute2 and nftables)", ErrCannotRun, c)
		}
	}
	ns := Prefix + "probe"
	ExecRunner(ctx, nil, "ip", "netns", "del", ns)
	if _, err := ExecRunner(ctx, nil, "ip", "netns", "add", ns); err != nil {
		return fmt.Errorf("%w: network namespaces unavailable: %v", ErrCannotRun, err)
	}
	defer ExecRunner(context.Background(), nil, "ip", "netns", "del", ns)
	if _, err := ExecRunner(ctx, []byte("table inet cmj\ndelete table inet cmj\n"), "ip", "netns", "exec", ns, "nft", "-f", "-"); err != nil {
		return fmt.Errorf("%w: nftables unusable in a namespace: %v", ErrCannotRun, err)
	}
	return nil
}
