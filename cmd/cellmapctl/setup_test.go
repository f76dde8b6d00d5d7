package main

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
)

func TestSimpleCellSetup(t *testing.T) {
	t.Parallel()
	dp := startDataPlane(t)
	n := dp.Node
	setup := func(vars map[string]string, args ...string) result {
		return ctlEnv(t, n, vars, append([]string{"cell_v2", "simple_cell_setup"}, args...)...)
	}
	// No conductor in the pool: nothing to map (cell0 was mapped by the data plane already).
	setup(nil, "--transport-url", "rabbit://mq/").wantExact(t, exitSetupFailed, "Cell0 is already setup\n"+msgNoHosts+"\n")

	// A conductor whose cell is not mapped, with hosts and instances from before.
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cond := dp.startConductor(cellA, "h1:64:65536:1000,h2:64:65536:1000")
	old := cellInstances(t, cond, "ffffffff", 60, base) // more than one batch
	bases := map[string]string{"CELLMAP_BASE_TRANSPORT_URL": "rabbit://u:p@mq:5672/", "CELLMAP_BASE_DATABASE_CONNECTION": "mysql://u:p@db/nova"}
	setup(bases).wantExact(t, exitOK, msgTransportFromCfg+"\nCell0 is already setup\n")
	cell, err := n.Client.Cell(ctxT(t), cellA)
	if err != nil {
		t.Fatal(err)
	}
	if cell.Name != "" || cell.TransportURL != "rabbit://u:p@mq:5672/" || cell.DatabaseConnection != "conductor://"+cond.Addr {
		t.Fatalf("cell: got %+v", cell)
	}
	if got := hostsOf(t, n, cellA); !reflect.DeepEqual(got, []string{"h1", "h2"}) {
		t.Fatalf("hosts: %q", got)
	}
	mappedTo(t, n, cellA, old)

	// Again: already set up; instances created since are mapped (no progress lines, even on a
	// terminal).
	newer := cellInstances(t, cond, "fffffffe", 3, base.Add(time.Hour))
	ctlTTY(t, n, "cell_v2", "simple_cell_setup", "--transport-url", "rabbit://mq/").
		wantExact(t, exitOK, "Cell0 is already setup\nCell already mapped: "+cellA+"\n")
	mappedTo(t, n, cellA, newer)
	var res setupResult
	rep := jsonResult(t, ctl(t, n, "--format", "json", "cell_v2", "simple_cell_setup", "--transport-url", "rabbit://mq/"), &res)
	if rep.ExitCode != exitOK || res.CellCreated || res.Cell == nil || res.Cell.UUID != cellA || res.Cell0 == nil || res.Cell0.Created ||
		res.Instances == nil || !res.Instances.Done || res.Instances.Mapped != 0 || res.Discovered == nil {
		t.Fatalf("json: got %+v %+v", rep, res)
	}

	// A second conductor without compute hosts: its cell is mapped (its database connection
	// names the conductor), but there is no host to map: 1.
	condB := dp.startConductor(cellB, "")
	setup(nil, "--transport-url", "rabbit://mq-b/").wantExact(t, exitSetupFailed, "Cell0 is already setup\n"+msgNoHosts+"\n")
	cellb, err := n.Client.Cell(ctxT(t), cellB)
	if err != nil {
		t.Fatal(err)
	}
	if cellb.DatabaseConnection != "conductor://"+condB.Addr || cellb.TransportURL != "rabbit://mq-b/" {
		t.Fatalf("cell b: got %+v", cellb)
	}
	// Both cells are mapped now: the first one is set up again, cell b is left alone.
	addComputeHost(t, condB, "hb1")
	setup(nil, "--transport-url", "rabbit://mq/").wantExact(t, exitOK, "Cell0 is already setup\nCell already mapped: "+cellA+"\n")
	if got := hostsOf(t, n, cellB); len(got) != 0 {
		t.Fatalf("hosts of cell b: %q", got)
	}

	// Every conductor gone: nothing to map.
	dp.stopCell(t, cond)
	dp.stopCell(t, condB)
	setup(nil, "--transport-url", "rabbit://mq/").wantExact(t, exitSetupFailed, "Cell0 is already setup\n"+msgNoHosts+"\n")
}

func TestSimpleCellSetupDuplicateURL(t *testing.T) {
	t.Parallel()
	dp := startDataPlane(t)
	n := dp.Node
	other := mustCell(t, n, "other", "rabbit://mq/", "mysql://db/other")
	dp.startConductor(cellA, "h1:8:16384:100")
	ctl(t, n, "cell_v2", "simple_cell_setup", "--transport-url", "rabbit://mq/").wantExact(t, exitSetupFailed,
		"Cell0 is already setup\n"+fmt.Sprintf(msgDuplicateURL, other.UUID)+"\n")
	if _, err := n.Client.Cell(ctxT(t), cellA); err == nil {
		t.Fatal("the cell was mapped")
	}
}

func TestSimpleCellSetupTransportURL(t *testing.T) {
	t.Parallel()
	addr := closedAddr(t) // checked before any request
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"none and no base", nil, nil, msgNoTransportURL + "\n"},
		{"no scheme", nil, []string{"--transport-url", "mq-without-scheme"}, "Invalid transport URL: No scheme specified in \"mq-without-scheme\"\n"},
		{"bad port", nil, []string{"--transport_url", "rabbit://u:p@mq:amqp/"}, "Invalid transport URL: invalid literal for int() with base 10: 'amqp'\n"},
		{"bad base", map[string]string{"CELLMAP_BASE_TRANSPORT_URL": "rabbit://h:x/"}, nil,
			msgTransportFromCfg + "\nInvalid transport URL: invalid literal for int() with base 10: 'x'\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.vars, append([]string{"--addr", addr, "cell_v2", "simple_cell_setup"}, tc.args...)...)
			r.wantExact(t, exitSetupFailed, tc.want)
			if r.stderr != "" {
				t.Fatalf("stderr %q", r.stderr)
			}
		})
	}
	r := runCLI(t, nil, "--addr", addr, "--format", "json", "cell_v2", "simple_cell_setup")
	if rep := jsonResult(t, r, nil); rep.ExitCode != exitSetupFailed || !strings.HasPrefix(rep.Messages[0], "Must specify --transport-url") {
		t.Fatalf("json: got %+v", rep)
	}
}

// TestSimpleCellSetupResult checks the JSON of a first setup.
func TestSimpleCellSetupResult(t *testing.T) {
	t.Parallel()
	dp := startDataPlane(t)
	cond := dp.startConductor(cellA, "h1:8:16384:100")
	old := cellInstances(t, cond, "abababab", 2, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	var res setupResult
	rep := jsonResult(t, ctl(t, dp.Node, "--format", "json", "cell_v2", "simple_cell_setup", "--transport-url", "rabbit://u:secret@mq/"), &res)
	if rep.ExitCode != exitOK || !res.CellCreated || res.Cell.UUID != cellA || res.Cell.TransportURL != "rabbit://u:****@mq/" ||
		len(res.Discovered.Mapped) != 1 || res.Discovered.Mapped[0] != (api.HostMapping{Host: "h1", CellUUID: cellA}) ||
		*res.Instances != (mapInstancesResult{Mapped: 2, Batches: 1, Done: true}) {
		t.Fatalf("got %+v %+v", rep, res)
	}
	mappedTo(t, dp.Node, cellA, old)
}
