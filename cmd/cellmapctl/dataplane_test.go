package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// Cell uuids of the data plane tests (each test has its own data plane).
const (
	cellA = "c0ffee00-0000-4000-8000-00000000000a"
	cellB = "c0ffee00-0000-4000-8000-00000000000b"
)

// waitTimeout bounds every wait for the data plane to see a change (gossip).
const waitTimeout = 20 * time.Second

// logGuard is the test for the data plane's loggers (testcluster.Logger writes to t.Log).
// Once the test's cleanups are done, it drops log lines instead of letting testing panic
// ("Log in goroutine after Test... has completed"): memberlist's Shutdown does not wait for a
// probe already in flight, which then logs its failure from its own goroutine, possibly after
// the test has completed. Everything else goes to the test.
type logGuard struct {
	testing.TB
	mu   sync.RWMutex
	done bool
}

// Log logs while the test runs.
func (g *logGuard) Log(args ...any) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if !g.done {
		g.TB.Log(args...)
	}
}

// plane is a data plane whose conductors all log through the test's guard. Start cells from
// the test's goroutine (not in subtests): they live as long as the test.
type plane struct {
	*testcluster.DataPlane
	tb *logGuard
}

// startDataPlane starts an in-process node with the cells data plane (cell0 mapped).
func startDataPlane(t *testing.T) *plane {
	g := &logGuard{TB: t}
	// Registered first, so it runs last, after every stop.
	t.Cleanup(func() {
		g.mu.Lock()
		g.done = true
		g.mu.Unlock()
	})
	return &plane{DataPlane: testcluster.StartDataPlane(g, nil), tb: g}
}

// addCell starts a conductor for a new cell, maps it and discovers its hosts.
func (p *plane) addCell(name, cell, hosts string) *testcluster.Conductor {
	p.tb.Helper()
	return p.AddCell(p.tb, name, cell, hosts)
}

// startConductor starts a conductor for cell without mapping the cell, and waits until the
// data plane sees it alive in the gossip pool (an unmapped cell is never up: no mapping names
// its address).
func (p *plane) startConductor(cell, hosts string) *testcluster.Conductor {
	p.tb.Helper()
	c := testcluster.StartConductor(p.tb, cell, "", p.GossipAddr, hosts)
	testkit.WaitFor(p.tb, "conductor of "+cell+" in the pool", waitTimeout, func() bool {
		for _, cd := range p.Registry.Conductors() {
			if cd.CellUUID == cell && cd.HTTPAddr == c.Addr && cd.Alive {
				return true
			}
		}
		return false
	})
	return c
}

// stopCell stops a cell's conductor and waits until the data plane sees the cell down.
func (p *plane) stopCell(t *testing.T, c *testcluster.Conductor) {
	t.Helper()
	c.Stop()
	testkit.WaitFor(t, "cell "+c.CellUUID+" down", waitTimeout, func() bool { return !p.Registry.Up(c.CellUUID) })
}

// conductorDo calls a cell conductor's own HTTP API (api/conductor.go).
func conductorDo(t *testing.T, c *testcluster.Conductor, method, path string, in, out any) {
	t.Helper()
	cc := client.New(c.Addr, nil)
	defer cc.Close()
	if _, err := cc.Do(ctxT(t), method, path, nil, in, out); err != nil {
		t.Fatalf("conductor %s %s: %v", method, path, err)
	}
}

// addComputeHost registers a new compute host in a conductor's cell (not mapped yet).
func addComputeHost(t *testing.T, c *testcluster.Conductor, name string) {
	t.Helper()
	conductorDo(t, c, "POST", "/v1/compute-hosts", api.ComputeHostCreate{Name: name, VCPUs: 64, RAMMB: 65536, DiskGB: 1000}, nil)
}

// cellInstances creates n instances directly in a conductor's cell, without mappings (as if
// they predated cells v2), one second apart from base, and returns their uuids oldest first.
// prefix is the first 8 hex digits of the uuids.
func cellInstances(t *testing.T, c *testcluster.Conductor, prefix string, n int, base time.Time) []string {
	t.Helper()
	var uuids []string
	for i := 0; i < n; i++ {
		u := fmt.Sprintf("%s-0000-4000-8000-%012d", prefix, i)
		in := api.InstanceCreate{UUID: u, Name: fmt.Sprintf("old-%d", i), ProjectID: "p-old", UserID: "u-old",
			Flavor: api.Flavor{ID: "f", Name: "f", VCPUs: 1, RAMMB: 64}, CreatedAt: base.Add(time.Duration(i) * time.Second)}
		conductorDo(t, c, "POST", "/v1/instances", in, nil)
		uuids = append(uuids, u)
	}
	return uuids
}

// mustFlavor creates a flavor of 1 vcpu, 512 MB and 1 GB.
func mustFlavor(t *testing.T, n *testcluster.Node, id, name string) {
	t.Helper()
	if _, err := n.Client.CreateFlavor(ctxT(t), api.Flavor{ID: id, Name: name, VCPUs: 1, RAMMB: 512, DiskGB: 1}); err != nil {
		t.Fatalf("create flavor %s: %v", id, err)
	}
}

// mappedTo fails unless every instance has a mapping to cell.
func mappedTo(t *testing.T, n *testcluster.Node, cell string, uuids []string) {
	t.Helper()
	for _, u := range uuids {
		m, _, err := n.Client.InstanceMapping(ctxT(t), u)
		if err != nil || m.CellUUID == nil || *m.CellUUID != cell || m.ProjectID != "p-old" {
			t.Fatalf("instance %s: mapping %+v (%v), want one to cell %s", u, m, err, cell)
		}
	}
}

// jsonResult runs a message-printing command with --format json and decodes its report and
// result.
func jsonResult(t *testing.T, r result, res any) jsonReport {
	t.Helper()
	var rep jsonReport
	decodeJSON(t, r, &rep)
	if rep.ExitCode != r.code {
		t.Fatalf("json exit_code %d, process exit %d", rep.ExitCode, r.code)
	}
	if res != nil && len(rep.Result) > 0 {
		if err := json.Unmarshal(rep.Result, res); err != nil {
			t.Fatalf("result: %v\n%s", err, rep.Result)
		}
	}
	return rep
}

// fieldsOf parses a Field/Value table.
func fieldsOf(t *testing.T, r result) map[string]string {
	t.Helper()
	if h := tableHeader(t, r.stdout); len(h) != 2 || h[0] != "Field" || h[1] != "Value" {
		t.Fatalf("header %q", h)
	}
	m := map[string]string{}
	for _, row := range tableRows(t, r.stdout) {
		m[row[0]] = row[1]
	}
	return m
}

// ttyBuffer is a terminal for the command: it says it is a character device, like os.Stdout
// on a tty.
type ttyBuffer struct{ bytes.Buffer }

func (*ttyBuffer) Stat() (fs.FileInfo, error) { return ttyInfo{}, nil }

type ttyInfo struct{}

func (ttyInfo) Name() string       { return "tty" }
func (ttyInfo) Size() int64        { return 0 }
func (ttyInfo) Mode() fs.FileMode  { return fs.ModeDevice | fs.ModeCharDevice | 0o620 }
func (ttyInfo) ModTime() time.Time { return time.Time{} }
func (ttyInfo) IsDir() bool        { return false }
func (ttyInfo) Sys() any           { return nil }

// ctlTTY runs cellmapctl against node n with stdout on a terminal.
func ctlTTY(t *testing.T, n *testcluster.Node, args ...string) result {
	t.Helper()
	var out ttyBuffer
	var errOut bytes.Buffer
	code := run(append([]string{"--addr", n.Addr, "--token", testkit.AdminToken}, args...), &out, &errOut, func(string) (string, bool) { return "", false })
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}
