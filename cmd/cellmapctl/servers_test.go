package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

func TestServers(t *testing.T) {
	t.Parallel()
	dp := startDataPlane(t)
	n := dp.Node
	cond := dp.addCell("cell1", cellA, "h1:8:16384:100")
	mustFlavor(t, n, "m1", "m1.small")
	create := func(name, project string, extra ...string) result {
		args := []string{"server", "create", "--name", name, "--flavor", "m1", "--image", "cirros", "--project", project, "--user", "u1"}
		return ctl(t, n, append(args, extra...)...)
	}

	// Created and waited for: ACTIVE in the cell.
	r := create("vm1", "p1", "--meta", "role=web", "--meta", "tier=1", "--wait")
	r.want(t, exitOK)
	vm1 := fieldsOf(t, r)
	want := map[string]string{"Name": "vm1", "Status": "ACTIVE", "Tenant ID": "p1", "User ID": "u1", "Flavor": "m1.small (m1)",
		"Image": "cirros", "Metadata": "role=web, tier=1", "Cell UUID": cellA, "Host": "h1"}
	for k, v := range want {
		if vm1[k] != v {
			t.Fatalf("%s: got %q, want %q (all: %q)", k, vm1[k], v, vm1)
		}
	}
	id := vm1["ID"]
	if !validate.IsUUID(id) || vm1["Created"] == "" {
		t.Fatalf("created: %q", vm1)
	}

	// Without --wait: answered at once, building.
	r = ctl(t, n, "--format", "json", "server", "create", "--name", "vm2", "--flavor", "m1", "--image", "cirros",
		"--project", "p1", "--user", "u1", "--az", "nova")
	var vm2 api.Server
	decodeJSON(t, r, &vm2)
	if r.code != exitOK || vm2.Status != api.StatusBuild || vm2.AvailabilityZone != "nova" || !validate.IsUUID(vm2.ID) {
		t.Fatalf("create without --wait: exit %d %+v", r.code, vm2)
	}
	testkit.WaitFor(t, "vm2 active", waitTimeout, func() bool {
		s, err := n.Client.Server(ctxT(t), vm2.ID)
		return err == nil && s.Status == api.StatusActive
	})

	t.Run("list", func(t *testing.T) {
		r := ctl(t, n, "server", "list", "--project", "p1", "--sort-key", "name", "--sort-dir", "asc")
		r.want(t, exitOK)
		if got := tableHeader(t, r.stdout); !reflect.DeepEqual(got, []string{"ID", "Name", "Status", "Tenant", "Cell", "Created"}) {
			t.Fatalf("header %q", got)
		}
		rows := tableRows(t, r.stdout)
		if len(rows) != 2 || !reflect.DeepEqual(rows[0][:5], []string{id, "vm1", "ACTIVE", "p1", cellA}) ||
			!reflect.DeepEqual(rows[1][:5], []string{vm2.ID, "vm2", "ACTIVE", "p1", cellA}) || r.stderr != "" {
			t.Fatalf("rows %q, stderr %q", rows, r.stderr)
		}
		if rows := tableRows(t, ctl(t, n, "server", "list", "--project", "p2").stdout); len(rows) != 0 {
			t.Fatalf("another project: %q", rows)
		}
		var list api.ServerList
		decodeJSON(t, ctl(t, n, "--format", "json", "server", "list", "--all-tenants", "--limit", "1", "--sort-key", "name", "--sort-dir", "desc"), &list)
		if len(list.Servers) != 1 || list.Servers[0].ID != vm2.ID || len(list.DownCells) != 0 {
			t.Fatalf("json: %+v", list)
		}
		decodeJSON(t, ctl(t, n, "--format", "json", "server", "list", "--all_tenants", "--marker", vm2.ID, "--sort-key", "name", "--sort-dir", "desc"), &list)
		if len(list.Servers) != 1 || list.Servers[0].ID != id {
			t.Fatalf("after the marker: %+v", list)
		}
		unknown := "00000000-1111-4111-8111-000000000000"
		r = ctl(t, n, "server", "list", "--project", "p1", "--marker", unknown)
		if r.code != exitServerFailed || !strings.HasPrefix(r.stdout, "Invalid input: ") {
			t.Fatalf("unknown marker: exit %d %q", r.code, r.stdout)
		}
		r = ctl(t, n, "server", "list", "--project", "p1", "--sort-key", "color")
		if r.code != exitServerFailed || !strings.HasPrefix(r.stdout, "Invalid input: ") {
			t.Fatalf("bad sort key: exit %d %q", r.code, r.stdout)
		}
	})
	t.Run("show", func(t *testing.T) {
		if got := fieldsOf(t, ctl(t, n, "server", "show", id)); got["ID"] != id || got["Status"] != "ACTIVE" || got["Cell UUID"] != cellA {
			t.Fatalf("show: %q", got)
		}
		var s api.Server
		decodeJSON(t, ctl(t, n, "server", "show", id, "--format", "json"), &s)
		if s.ID != id || s.Metadata["tier"] != "1" || s.Flavor == nil || s.Flavor.ID != "m1" {
			t.Fatalf("json: %+v", s)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		r := create("bad", "p1", "--flavor", "nope")
		if r.code != exitServerFailed || !strings.HasPrefix(r.stdout, "Invalid input: ") || !strings.Contains(r.stdout, "nope") {
			t.Fatalf("unknown flavor: exit %d %q", r.code, r.stdout)
		}
		rep := jsonResult(t, ctl(t, n, "--format", "json", "server", "create", "--name", "bad", "--flavor", "nope",
			"--image", "i", "--project", "p1", "--user", "u1"), nil)
		if rep.ExitCode != exitServerFailed || len(rep.Messages) != 1 {
			t.Fatalf("json: %+v", rep)
		}
		ctl(t, n, "server", "show", "vm1").wantExact(t, exitServerFailed, "No server with a name or ID of 'vm1' exists.\n")
	})
	t.Run("delete", func(t *testing.T) {
		ctl(t, n, "server", "delete", id).wantExact(t, exitOK, "")
		msg := "No server with a name or ID of '" + id + "' exists.\n"
		ctl(t, n, "server", "show", id).wantExact(t, exitServerFailed, msg)
		ctl(t, n, "server", "delete", id).wantExact(t, exitServerFailed, msg)
		ctl(t, n, "server", "delete", "vm1").wantExact(t, exitServerFailed, "No server with a name or ID of 'vm1' exists.\n")
	})
	t.Run("wait gives up", func(t *testing.T) {
		// An expired deadline: the server was accepted but is not seen leaving BUILD.
		r := create("vm3", "p3", "--wait", "--wait-timeout", "1ns")
		if r.code != exitUnexpected || r.stdout != "" || !strings.Contains(r.stderr, "still BUILD") {
			t.Fatalf("got exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})

	// The cell goes down.
	dp.stopCell(t, cond)
	t.Run("cell down", func(t *testing.T) {
		r := ctl(t, n, "server", "delete", vm2.ID)
		if r.code != exitServerCellDown || !strings.HasSuffix(r.stdout, "\nCells down or not answering: "+cellA+"\n") {
			t.Fatalf("delete: exit %d, stdout %q", r.code, r.stdout)
		}
		rep := jsonResult(t, ctl(t, n, "--format", "json", "server", "delete", vm2.ID), nil)
		if rep.ExitCode != exitServerCellDown || len(rep.Messages) != 2 {
			t.Fatalf("json: %+v", rep)
		}
		// The server is still listed and shown, as UNKNOWN; the list names the cell on stderr.
		r = ctl(t, n, "server", "list", "--project", "p1")
		rows := tableRows(t, r.stdout)
		if r.code != exitOK || len(rows) != 1 || rows[0][0] != vm2.ID || rows[0][2] != "UNKNOWN" ||
			r.stderr != "Cells down or not answering: "+cellA+"\n" {
			t.Fatalf("list: exit %d %q, stderr %q", r.code, rows, r.stderr)
		}
		if got := fieldsOf(t, ctl(t, n, "server", "show", vm2.ID)); got["Status"] != "UNKNOWN" {
			t.Fatalf("show: %q", got)
		}
		// The project still creates (usage is counted at the API tier, not in the down cell);
		// with no cell up the server lands in cell0 (ERROR, exit 1 with --wait).
		r = create("vm5", "p1", "--wait")
		got := fieldsOf(t, r)
		if r.code != exitServerFailed || got["Status"] != "ERROR" || got["Cell UUID"] != api.Cell0UUID ||
			!strings.Contains(got["Fault"], "No valid host") || r.stderr != "Error creating server: vm5\n" {
			t.Fatalf("create in no cell: exit %d %q, stderr %q", r.code, got, r.stderr)
		}
	})
}
