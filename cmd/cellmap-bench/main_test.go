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
