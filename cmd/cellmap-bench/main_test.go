package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/bench"
	"github.com/cellmap/cellmap/bench/floor"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

func TestUsageErrors(t *testing.T) {
	cases := [][]string{
		{"--workload", "scan"},
		{"--endpoints", "10.1.2.3:8480"},
		{"--duration", "11m"},
		{"--no-such-flag"},
		{"extra-arg"},
		{"compare"},
		{"wait", "--endpoints", "192.168.0.1:1"},
		{"--server-pids", "x"},
		{"--route-writes", "follower"},
		{"raft-floor", "--fsm", "memory"},
		{"raft-floor", "--concurrency", "0"},
		{"raft-floor", "--duration", "11m"},
		{"raft-floor", "--size", "8"},
		{"raft-floor-node", "--id", "n1"},
		{"raft-floor-node", "--id", "n1", "--dir", "d", "--raft", "10.0.0.1:1", "--peers", "n1=10.0.0.1:1"},
	}
	for _, args := range cases {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %s)", args, code, errb.String())
		}
	}
}

func TestRunAndCompare(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	dir := t.TempDir()
	var out, errb bytes.Buffer
	args := []string{"--endpoints", n.Addr, "--workload", "lookup", "--count", "200", "--duration", "0", "--keys", "100",
		"--preload", "--concurrency", "4", "--json", "--out", filepath.Join(dir, "cellmap.json"), "--server-pids", strconv.Itoa(os.Getpid()),
		"--token-file", testkit.AdminTokenFile(t)}
	if code := run(t.Context(), args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var res bench.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out.String())
	}
	if res.Target != "cellmap" || res.Ops != 200 || res.Latency.P99 == 0 || res.ServerCPUPerOpUs <= 0 {
		t.Fatalf("result %+v", res)
	}
	// A second target from a result file, then the ratio table.
	res.Target, res.OpsPerSec = "etcd", res.OpsPerSec/2
	b, _ := json.Marshal(res)
	os.WriteFile(filepath.Join(dir, "etcd.json"), b, 0o644)
	out.Reset()
	if code := run(t.Context(), []string{"compare", dir}, &out, &errb); code != 0 {
		t.Fatalf("compare exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "2.00×") {
		t.Fatalf("compare table:\n%s", out.String())
	}
	out.Reset()
	tokenFile := testkit.AdminTokenFile(t)
	if code := run(t.Context(), []string{"wait", "--endpoints", n.Addr, "--voters", "1", "--timeout", "10s", "--token-file", tokenFile}, &out, &errb); code != 0 {
		t.Fatalf("wait exit %d: %s", code, errb.String())
	}
	out.Reset()
	args = []string{"run", "--endpoints", n.Addr, "--workload", "create", "--count", "50", "--duration", "0", "--concurrency", "2", "--token-file", tokenFile}
	if code := run(t.Context(), args, &out, &errb); code != 0 || !strings.Contains(out.String(), "cellmap create, 2 clients") {
		t.Fatalf("table run exit %d:\n%s%s", code, out.String(), errb.String())
	}
}

// TestMain lets this test binary be a raft floor node, as cellmap-bench is for raft-floor.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "raft-floor-node" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestRaftFloor runs the raft floor with three real node processes (this binary): the leader
// applies for a second and the run reports its applies, their latency and the nodes' CPU.
func TestRaftFloor(t *testing.T) {
	var out, errb bytes.Buffer
	args := []string{"raft-floor", "--concurrency", "4", "--warmup", "200ms", "--duration", "1s", "--json"}
	if code := run(t.Context(), args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var res floor.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out.String())
	}
	if res.Nodes != 3 || res.FSM != floor.FSMBbolt || res.Ops == 0 || res.Errors >= res.Ops || res.Leader == "" ||
		res.Latency.P50 == 0 || res.CPUPerOpUS <= 0 {
		t.Fatalf("result %+v", res)
	}
}
