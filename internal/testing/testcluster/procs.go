package testcluster

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/proc"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// The commands built so far by this test binary, in one temporary directory.
var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]error{}
)

// Binary returns the path of a command of this module (e.g. "cellmapd"), built at most once
// per test binary into a temporary directory.
func Binary(t testing.TB, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir == "" {
		dir, err := os.MkdirTemp("", "cellmap-bin-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = dir
	}
	err, ok := built[name]
	if !ok {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		_, err = proc.Build(ctx, buildDir, nil, name)
		cancel()
		built[name] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(buildDir, name)
}

// Process is a running child process (see internal/proc); its output is kept for failure
// reports.
type Process struct {
	*proc.Process
	Name string
	out  *proc.Buffer
}

// Start runs bin with args in its own process group. It is killed at test cleanup, and its
// output is logged if the test failed.
func Start(t testing.TB, name, bin string, args ...string) *Process {
	t.Helper()
	out := &proc.Buffer{}
	p, err := proc.Start(proc.Spec{Argv: append([]string{bin}, args...), Out: out})
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := p.Kill(); err != nil {
			t.Logf("%s: %v", name, err)
		}
		if t.Failed() {
			t.Logf("--- output of %s ---\n%s", name, out.String())
		}
	})
	return &Process{Process: p, Name: name, out: out}
}

// Output is what the process printed so far.
func (p *Process) Output() string { return p.out.String() }

// WaitReady waits until the node at addr answers /readyz.
func WaitReady(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	WaitClientReady(t, client.New(addr, nil), timeout)
}

// WaitClientReady waits until c's node answers /readyz (over HTTPS when c is an HTTPS client).
func WaitClientReady(t testing.TB, c *client.Client, timeout time.Duration) {
	t.Helper()
	testkit.WaitFor(t, c.Addr()+" ready", timeout, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return c.Ready(ctx) == nil
	})
}
