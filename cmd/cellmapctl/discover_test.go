package main

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

// hostsOf lists the hosts mapped to cell, sorted.
func hostsOf(t *testing.T, n *testcluster.Node, cell string) []string {
	t.Helper()
	hs, err := n.Client.Hosts(ctxT(t), cell)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range hs {
		out = append(out, h.Host)
	}
	return out
}

func TestDiscoverHosts(t *testing.T) {
	t.Parallel()
	dp := startDataPlane(t)
	n := dp.Node
	cond := dp.addCell("cell1", cellA, "h1:8:16384:100")
	discover := func(args ...string) result {
		return ctl(t, n, append([]string{"cell_v2", "discover_hosts"}, args...)...)
	}

	t.Run("nothing new", func(t *testing.T) {
		discover().wantExact(t, exitOK, "")
		discover("--strict").wantExact(t, exitDiscoverNothingNew, "")
	})
	t.Run("strict maps a new host once", func(t *testing.T) {
		addComputeHost(t, cond, "h2")
		discover("--strict").wantExact(t, exitOK, "")
		discover("--strict").wantExact(t, exitDiscoverNothingNew, "")
		if got := hostsOf(t, n, cellA); !reflect.DeepEqual(got, []string{"h1", "h2"}) {
			t.Fatalf("hosts of the cell: %q", got)
		}
	})
	t.Run("verbose", func(t *testing.T) {
		addComputeHost(t, cond, "h3")
		want := fmt.Sprintf("Found 2 cell mappings.\nSkipping cell0 since it does not contain hosts.\n"+
			"Getting computes from cell 'cell1': %[1]s\n"+
			"Checking host mapping for compute host 'h3': %[1]s\nCreating host mapping for compute host 'h3': %[1]s\n"+
			"Found 1 unmapped computes in cell: %[1]s\n", cellA)
		discover("--verbose").wantExact(t, exitOK, want)
		// One cell: no count of the cells.
		discover("--verbose", "--cell_uuid", cellA).wantExact(t, exitOK,
			fmt.Sprintf("Getting computes from cell 'cell1': %[1]s\nFound 0 unmapped computes in cell: %[1]s\n", cellA))
	})
	t.Run("by service", func(t *testing.T) {
		addComputeHost(t, cond, "h4")
		// Every nova-compute service is looked at; only the new one is reported.
		discover("--by-service", "--verbose", "--strict", "--cell-uuid", cellA).wantExact(t, exitOK,
			fmt.Sprintf("Getting computes from cell 'cell1': %[1]s\nCreating host mapping for service h4\n"+
				"Found 1 unmapped computes in cell: %[1]s\n", cellA))
		discover("--by_service", "--strict").wantExact(t, exitDiscoverNothingNew, "")
	})
	t.Run("json", func(t *testing.T) {
		addComputeHost(t, cond, "h5")
		var res api.DiscoverResult
		rep := jsonResult(t, ctl(t, n, "--format", "json", "cell_v2", "discover_hosts", "--strict"), &res)
		if rep.ExitCode != exitOK || len(rep.Messages) != 0 || len(res.Mapped) != 1 || res.Mapped[0].Host != "h5" ||
			res.Mapped[0].CellUUID != cellA || len(res.Cells) != 2 || len(res.FailedCells) != 0 {
			t.Fatalf("got %+v %+v", rep, res)
		}
		rep = jsonResult(t, ctl(t, n, "--format", "json", "cell_v2", "discover_hosts", "--strict", "--verbose"), &res)
		if rep.ExitCode != exitDiscoverNothingNew || len(rep.Messages) != 4 || rep.Messages[0] != "Found 2 cell mappings." {
			t.Fatalf("got %+v", rep)
		}
	})
	t.Run("unknown cell", func(t *testing.T) {
		for _, uuid := range []string{cellB, "cell1"} {
			r := discover("--cell_uuid", uuid)
			if r.code != exitUnexpected || r.stderr != "An error has occurred:\n"+fmt.Sprintf(msgCellNoMapping, uuid)+"\n" {
				t.Fatalf("%s: got exit %d, stderr %q", uuid, r.code, r.stderr)
			}
		}
	})
	condB := dp.addCell("", cellB, "hb1:8:16384:100")
	t.Run("a cell down", func(t *testing.T) {
		discover("--verbose", "--cell_uuid", cellB).wantExact(t, exitOK,
			fmt.Sprintf("Getting computes from cell: %[1]s\nFound 0 unmapped computes in cell: %[1]s\n", cellB))
		dp.stopCell(t, condB)
		addComputeHost(t, cond, "h6")
		// The reachable cell is discovered; the unreachable one is named and the exit is 255.
		r := discover("--verbose")
		if r.code != exitUnexpected || r.stderr != "An error has occurred:\n"+fmt.Sprintf(msgCellsDown, cellB)+"\n" {
			t.Fatalf("got exit %d, stderr %q", r.code, r.stderr)
		}
		if !strings.HasPrefix(r.stdout, "Found 3 cell mappings.\n") || !strings.Contains(r.stdout, "Creating host mapping for compute host 'h6'") {
			t.Fatalf("stdout:\n%s", r.stdout)
		}
		if got := hostsOf(t, n, cellA); !reflect.DeepEqual(got, []string{"h1", "h2", "h3", "h4", "h5", "h6"}) {
			t.Fatalf("hosts of the reachable cell: %q", got)
		}
		r = discover("--cell_uuid", cellB, "--strict")
		if r.code != exitUnexpected || !strings.Contains(r.stderr, cellB) {
			t.Fatalf("one down cell: got exit %d, stderr %q", r.code, r.stderr)
		}
		var res api.DiscoverResult
		rep := jsonResult(t, ctl(t, n, "--format", "json", "cell_v2", "discover_hosts"), &res)
		if rep.ExitCode != exitUnexpected || !reflect.DeepEqual(res.FailedCells, []string{cellB}) {
			t.Fatalf("json: got %+v %+v", rep, res)
		}
	})
}
