package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

func TestVerifyInstance(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	named := mustCell(t, n, "cell1", "rabbit://mq-1/", "mysql://db/1")
	unnamed := mustCell(t, n, "", "rabbit://mq-2/", "mysql://db/2")
	const (
		inNamed   = "aaaaaaaa-0000-4000-8000-000000000001"
		inUnnamed = "aaaaaaaa-0000-4000-8000-000000000002"
		building  = "aaaaaaaa-0000-4000-8000-000000000003"
		unknown   = "aaaaaaaa-0000-4000-8000-000000000004"
	)
	mustMapping(t, n, inNamed, named.UUID, false)
	mustMapping(t, n, inUnnamed, unnamed.UUID, false)
	mustMapping(t, n, building, "", false)
	notMapped := "Instance %s is not mapped to a cell (upgrade is incomplete) or instance does not exist\n"
	tests := []struct {
		name string
		uuid string
		code int
		want string
	}{
		{"in a cell", inNamed, exitOK, fmt.Sprintf("Instance %s is in cell: cell1 (%s)\n", inNamed, named.UUID)},
		{"in an unnamed cell", inUnnamed, exitOK, fmt.Sprintf("Instance %s is in cell: None (%s)\n", inUnnamed, unnamed.UUID)},
		{"no mapping", unknown, exitVerifyNotMapped, fmt.Sprintf(notMapped, unknown)},
		{"not a uuid", "vm-1", exitVerifyNotMapped, fmt.Sprintf(notMapped, "vm-1")},
		{"mapping without a cell", building, exitVerifyNoCell, fmt.Sprintf("Instance %s is not mapped to a cell\n", building)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctl(t, n, "cell_v2", "verify_instance", "--uuid", tc.uuid).wantExact(t, tc.code, tc.want)
			ctl(t, n, "cell_v2", "verify_instance", "--uuid", tc.uuid, "--quiet").wantExact(t, tc.code, "")
			r := ctl(t, n, "--format", "json", "cell_v2", "verify_instance", "--uuid", tc.uuid)
			var rep jsonReport
			decodeJSON(t, r, &rep)
			if r.code != tc.code || rep.ExitCode != tc.code || len(rep.Messages) != 1 || rep.Messages[0]+"\n" != tc.want {
				t.Fatalf("json: got exit %d, %+v", r.code, rep)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	c := mustCell(t, n, "cell1", "rabbit://{username}:{password}@mq-1:5672/", "mysql+pymysql://nova:dbpass@db/cell1")
	const (
		mapped   = "bbbbbbbb-0000-4000-8000-000000000001"
		building = "bbbbbbbb-0000-4000-8000-000000000002"
		unknown  = "bbbbbbbb-0000-4000-8000-000000000003"
	)
	mustMapping(t, n, mapped, c.UUID, false)
	mustMapping(t, n, building, "", false)
	bases := map[string]string{"CELLMAP_BASE_TRANSPORT_URL": "rabbit://bob:mqpass@base/"}

	fields := func(r result) map[string]string {
		t.Helper()
		r.want(t, exitOK)
		if h := tableHeader(t, r.stdout); len(h) != 2 || h[0] != "Field" || h[1] != "Value" {
			t.Fatalf("header %q", h)
		}
		m := map[string]string{}
		for _, row := range tableRows(t, r.stdout) {
			m[row[0]] = row[1]
		}
		return m
	}
	got := fields(ctlEnv(t, n, bases, "lookup", mapped))
	want := map[string]string{"Instance UUID": mapped, "Cell UUID": c.UUID, "Cell Name": "cell1",
		"Transport URL": "rabbit://bob:****@mq-1:5672/", "Database Connection": "mysql+pymysql://nova:****@db/cell1",
		"Cell Disabled": "False", "Project ID": "p1", "User ID": "None", "Queued For Delete": "False"}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: got %q, want %q (all: %q)", k, got[k], v, got)
		}
	}
	got = fields(ctlEnv(t, n, bases, "lookup", mapped, "--verbose"))
	if got["Transport URL"] != "rabbit://bob:mqpass@mq-1:5672/" || got["Database Connection"] != "mysql+pymysql://nova:dbpass@db/cell1" {
		t.Fatalf("--verbose: got %q", got)
	}
	got = fields(ctl(t, n, "lookup", building))
	if got["Cell UUID"] != "None (not scheduled yet)" || got["Cell Name"] != "" {
		t.Fatalf("unscheduled: got %q", got)
	}

	var m api.InstanceMapping
	decodeJSON(t, ctl(t, n, "--format", "json", "lookup", mapped), &m)
	if m.InstanceUUID != mapped || m.Cell == nil || m.Cell.DatabaseConnection != "mysql+pymysql://nova:****@db/cell1" ||
		m.Cell.TransportURL != "rabbit://{username}:****@mq-1:5672/" {
		t.Fatalf("json: got %+v", m)
	}

	ctl(t, n, "lookup", unknown).wantExact(t, exitLookupNotMapped, "Instance "+unknown+" is not mapped.\n")
	ctl(t, n, "lookup", "not-a-uuid").wantExact(t, exitLookupNotMapped, "Instance not-a-uuid is not mapped.\n")
	r := ctl(t, n, "lookup", unknown, "--format", "json")
	var rep jsonReport
	decodeJSON(t, r, &rep)
	if r.code != exitLookupNotMapped || rep.ExitCode != exitLookupNotMapped || len(rep.Result) != 0 {
		t.Fatalf("json not mapped: got exit %d, %+v", r.code, rep)
	}
	if err := json.Unmarshal([]byte(r.stdout), new(map[string]any)); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyInstanceInCells(t *testing.T) {
	t.Parallel()
	dp := startDataPlane(t)
	n := dp.Node
	cond := dp.addCell("cell1", cellA, "h1:8:16384:100")
	insts := cellInstances(t, cond, "eeeeeeee", 2, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	present, deleted := insts[0], insts[1]
	const (
		archived = "eeeeeeee-0000-4000-8000-0000000000ff"
		building = "eeeeeeee-0000-4000-8000-0000000000fe"
		unknown  = "eeeeeeee-0000-4000-8000-0000000000fd"
	)
	mustMapping(t, n, present, cellA, false)
	mustMapping(t, n, deleted, cellA, false)
	conductorDo(t, cond, "DELETE", "/v1/instances/"+deleted, nil, nil) // deleted in the cell, mapping kept
	mustMapping(t, n, archived, cellA, false)                          // the cell never had it
	mustMapping(t, n, building, "", false)
	tests := []struct {
		name string
		uuid string
		code int
		want string
	}{
		{"present", present, exitOK, fmt.Sprintf("Instance %s is in cell: cell1 (%s)\n", present, cellA)},
		{"no mapping", unknown, exitVerifyNotMapped,
			fmt.Sprintf("Instance %s is not mapped to a cell (upgrade is incomplete) or instance does not exist\n", unknown)},
		{"not scheduled", building, exitVerifyNoCell, fmt.Sprintf("Instance %s is not mapped to a cell\n", building)},
		{"deleted in the cell", deleted, exitVerifyDeleted, fmt.Sprintf("The instance with uuid %s has been deleted.\n"+
			"Execute `nova-manage db archive_deleted_rows` command to archive this deleted instance and remove its instance_mapping.\n", deleted)},
		{"gone from the cell", archived, exitVerifyArchived,
			fmt.Sprintf("The instance with uuid %s has been archived.\nHowever its instance_mapping remains.\n", archived)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctl(t, n, "cell_v2", "verify_instance", "--uuid", tc.uuid).wantExact(t, tc.code, tc.want)
			ctl(t, n, "cell_v2", "verify_instance", "--uuid", tc.uuid, "--quiet").wantExact(t, tc.code, "")
			var m api.InstanceMapping
			rep := jsonResult(t, ctl(t, n, "--format", "json", "cell_v2", "verify_instance", "--uuid", tc.uuid), &m)
			if rep.ExitCode != tc.code || strings.Join(rep.Messages, "\n")+"\n" != tc.want {
				t.Fatalf("json: got %+v", rep)
			}
			if tc.code == exitOK || tc.code == exitVerifyDeleted || tc.code == exitVerifyArchived {
				if m.InstanceUUID != tc.uuid || m.Cell == nil || m.Cell.UUID != cellA {
					t.Fatalf("json result: %+v", m)
				}
			}
		})
	}
	t.Run("cell down", func(t *testing.T) {
		dp.stopCell(t, cond)
		r := ctl(t, n, "cell_v2", "verify_instance", "--uuid", present)
		if r.code != exitUnexpected || !strings.Contains(r.stderr, "cell_down") {
			t.Fatalf("got exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		// What needs no cell still answers.
		ctl(t, n, "cell_v2", "verify_instance", "--uuid", building).wantExact(t, exitVerifyNoCell,
			fmt.Sprintf("Instance %s is not mapped to a cell\n", building))
	})
}
