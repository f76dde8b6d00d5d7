package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// result is what one cellmapctl run produced.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs cellmapctl with args and the environment vars (nil: empty environment).
func runCLI(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	lookup := func(k string) (string, bool) {
		v, ok := vars[k]
		if !ok && k == "CELLMAP_TOKEN" { // every test node's admin token, unless vars set one
			return testkit.AdminToken, true
		}
		return v, ok
	}
	code := run(args, &out, &errOut, lookup)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// ctl runs cellmapctl against node n.
func ctl(t *testing.T, n *testcluster.Node, args ...string) result {
	t.Helper()
	return runCLI(t, nil, append([]string{"--addr", n.Addr}, args...)...)
}

// ctlEnv runs cellmapctl against node n with environment vars.
func ctlEnv(t *testing.T, n *testcluster.Node, vars map[string]string, args ...string) result {
	t.Helper()
	return runCLI(t, vars, append([]string{"--addr", n.Addr}, args...)...)
}

// want checks the exit code and that stdout contains every string of wantOut.
func (r result) want(t *testing.T, code int, wantOut ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code: got %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, s := range wantOut {
		if !strings.Contains(r.stdout, s) {
			t.Fatalf("stdout does not contain %q:\n%s\nstderr:\n%s", s, r.stdout, r.stderr)
		}
	}
}

// wantExact checks the exit code and the whole stdout.
func (r result) wantExact(t *testing.T, code int, stdout string) {
	t.Helper()
	if r.code != code || r.stdout != stdout {
		t.Fatalf("got exit %d, stdout:\n%q\nwant exit %d, stdout:\n%q\nstderr:\n%s", r.code, r.stdout, code, stdout, r.stderr)
	}
}

// parseTable parses the first table in s: its header and data rows (cells trimmed).
func parseTable(t *testing.T, s string) (header []string, rows [][]string) {
	t.Helper()
	rules := 0
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "+") {
			if rules++; rules == 3 {
				break
			}
			continue
		}
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if header == nil {
			header = cells
		} else {
			rows = append(rows, cells)
		}
	}
	if rules < 3 || header == nil {
		t.Fatalf("no table in output:\n%s", s)
	}
	return header, rows
}

// tableRows returns the data rows of the first table in s.
func tableRows(t *testing.T, s string) [][]string {
	t.Helper()
	_, rows := parseTable(t, s)
	return rows
}

// tableHeader returns the header of the first table in s.
func tableHeader(t *testing.T, s string) []string {
	t.Helper()
	header, _ := parseTable(t, s)
	return header
}

// decodeJSON parses the JSON stdout of a run into v.
func decodeJSON(t *testing.T, r result, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
}

// jsonReport is the --format json output of a message-printing command.
type jsonReport struct {
	ExitCode int             `json:"exit_code"`
	Messages []string        `json:"messages"`
	Result   json.RawMessage `json:"result"`
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mustCell creates a cell through the API and returns it.
func mustCell(t *testing.T, n *testcluster.Node, name, transportURL, dbURL string) *api.Cell {
	t.Helper()
	c, err := n.Client.CreateCell(ctxT(t), api.CellCreate{Name: name, TransportURL: transportURL, DatabaseConnection: dbURL})
	if err != nil {
		t.Fatalf("create cell %s: %v", name, err)
	}
	return c
}

// mustHost maps host to cell.
func mustHost(t *testing.T, n *testcluster.Node, host, cellUUID string) {
	t.Helper()
	if _, err := n.Client.PutHost(ctxT(t), host, cellUUID, client.Condition{}); err != nil {
		t.Fatalf("map host %s: %v", host, err)
	}
}

// mustMapping writes an instance mapping (cellUUID "" for an unscheduled instance).
func mustMapping(t *testing.T, n *testcluster.Node, instance, cellUUID string, queuedForDelete bool) {
	t.Helper()
	in := api.InstanceMappingPut{ProjectID: "p1", QueuedForDelete: queuedForDelete}
	if cellUUID != "" {
		in.CellUUID = &cellUUID
	}
	if _, _, err := n.Client.PutInstanceMapping(ctxT(t), instance, in, client.Condition{}); err != nil {
		t.Fatalf("map instance %s: %v", instance, err)
	}
}

// closedAddr returns an address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestUsageErrors(t *testing.T) {
	addr := closedAddr(t) // nothing may be contacted: every case fails before
	tests := []struct {
		name    string
		vars    map[string]string
		args    []string
		wantErr string
	}{
		{"no group", nil, nil, "a group is required"},
		{"unknown group", nil, []string{"cells"}, `invalid choice: "cells"`},
		{"no command", nil, []string{"cell_v2"}, "a command is required"},
		{"unknown command", nil, []string{"cell_v2", "list_everything"}, `invalid choice: "list_everything"`},
		{"not implemented nova command", nil, []string{"cell_v2", "map_cell_and_hosts"}, "invalid choice"},
		{"unknown option", nil, []string{"cell_v2", "list_cells", "--bogus"}, "flag provided but not defined: -bogus"},
		{"unknown global option", nil, []string{"--bogus", "cell_v2", "list_cells"}, "flag provided but not defined"},
		{"delete_cell without --cell_uuid", nil, []string{"cell_v2", "delete_cell", "--force"},
			"the following arguments are required: --cell_uuid"},
		{"update_cell without --cell_uuid", nil, []string{"cell_v2", "update_cell", "--name", "x"},
			"the following arguments are required: --cell_uuid"},
		{"delete_host without --host", nil, []string{"cell_v2", "delete_host", "--cell_uuid", "00000000-0000-0000-0000-000000000001"},
			"the following arguments are required: --host"},
		{"delete_host without anything", nil, []string{"cell_v2", "delete_host"},
			"the following arguments are required: --cell_uuid, --host"},
		{"verify_instance without --uuid", nil, []string{"cell_v2", "verify_instance", "--quiet"},
			"the following arguments are required: --uuid"},
		{"unexpected argument", nil, []string{"cell_v2", "list_cells", "extra"}, "unrecognized arguments: extra"},
		{"bad format", nil, []string{"--format", "yaml", "cell_v2", "list_cells"}, "--format must be table or json"},
		{"bad format env", map[string]string{"CELLMAP_FORMAT": "xml"}, []string{"cell_v2", "list_cells"}, "--format must be"},
		{"bad timeout env", map[string]string{"CELLMAP_TIMEOUT": "soon"}, []string{"cell_v2", "list_cells"}, "CELLMAP_TIMEOUT"},
		{"lookup without uuid", nil, []string{"lookup"}, "the following arguments are required: <instance-uuid>"},
		{"cluster remove without id", nil, []string{"cluster", "remove"}, "--node-id (or <node-id>)"},
		{"cluster join without --raft-addr", nil, []string{"cluster", "join", "--node-id", "n2"}, "--raft-addr"},
		{"flavor create without sizes", nil, []string{"flavor", "create", "--id", "f", "--name", "f"},
			"the following arguments are required: --vcpus, --ram-mb, --disk-gb"},
		{"flavor extra spec without =", nil, []string{"flavor", "create", "--extra-spec", "novalue"}, "want key=value"},
		{"flavor vcpus not a number", nil, []string{"flavor", "create", "--vcpus", "many"}, "invalid value"},
		{"flavor show without id", nil, []string{"flavor", "show"}, "<flavor-id>"},
		{"map_instances without --cell_uuid", nil, []string{"cell_v2", "map_instances", "--max-count", "5"},
			"the following arguments are required: --cell_uuid"},
		{"discover_hosts with an argument", nil, []string{"cell_v2", "discover_hosts", "cell1"}, "unrecognized arguments: cell1"},
		{"simple_cell_setup unknown option", nil, []string{"cell_v2", "simple_cell_setup", "--name", "x"}, "flag provided but not defined: -name"},
		{"server create without options", nil, []string{"server", "create", "--wait"},
			"the following arguments are required: --name, --flavor, --image, --project, --user"},
		{"server create bad meta", nil, []string{"server", "create", "--meta", "novalue"}, "want key=value"},
		{"server create bad wait timeout", nil, []string{"server", "create", "--name", "n", "--flavor", "f", "--image", "i",
			"--project", "p", "--user", "u", "--wait", "--wait-timeout", "0s"}, "--wait-timeout must be positive"},
		{"server list without a project", nil, []string{"server", "list"}, "one of the arguments --project --all-tenants is required"},
		{"server list with both", nil, []string{"server", "list", "--project", "p", "--all-tenants"},
			"argument --all-tenants: not allowed with argument --project"},
		{"server list bad limit", nil, []string{"server", "list", "--all-tenants", "--limit", "many"}, "invalid value"},
		{"server show without id", nil, []string{"server", "show"}, "<server-id>"},
		{"server delete two ids", nil, []string{"server", "delete", "a", "b"}, "unrecognized arguments: b"},
		{"unknown server command", nil, []string{"server", "reboot"}, `invalid choice: "reboot"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.vars, append([]string{"--addr", addr}, tc.args...)...)
			if r.code != exitUsage {
				t.Fatalf("exit code: got %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitUsage, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.wantErr) || !strings.HasPrefix(r.stderr, "usage: cellmapctl") {
				t.Fatalf("stderr: got\n%s\nwant a usage line and %q", r.stderr, tc.wantErr)
			}
			if r.stdout != "" {
				t.Fatalf("stdout: got %q, want nothing", r.stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"usage: cellmapctl [global options]", "cell_v2", "CELLMAP_ADDR", "CELLMAP_BASE_TRANSPORT_URL"}},
		{[]string{"help"}, []string{"Groups:"}},
		{[]string{"cell_v2", "--help"}, []string{"map_cell0", "create_cell", "verify_instance"}},
		{[]string{"cell-v2", "-h"}, []string{"list_hosts"}},
		{[]string{"cell_v2", "create_cell", "--help"}, []string{"--transport-url, --transport_url URL",
			"--database_connection, --database-connection URL", "2 the transport URL or the database URL"}},
		{[]string{"cell_v2", "update-cell", "-h"}, []string{"usage: cellmapctl cell_v2 update_cell --cell_uuid UUID [options]",
			"5 --disable or --enable on cell0"}},
		{[]string{"cluster", "--help"}, []string{"status", "join", "remove"}},
		{[]string{"lookup", "--help"}, []string{"<instance-uuid>", "--verbose"}},
		{[]string{"flavor", "create", "--help"}, []string{"--extra-spec, --extra_spec KEY=VALUE"}},
		{[]string{"cell_v2", "--help"}, []string{"simple_cell_setup ", "discover_hosts ", "map_instances "}},
		{[]string{"cell_v2", "discover-hosts", "--help"}, []string{"--by-service, --by_service", "1 --strict and no new host", "2 a concurrent"}},
		{[]string{"cell_v2", "map_instances", "-h"}, []string{"usage: cellmapctl cell_v2 map_instances --cell_uuid UUID [options]",
			"--max-count, --max_count N", "127 --max-count is not a positive integer"}},
		{[]string{"cell_v2", "simple_cell_setup", "-h"}, []string{"--transport-url, --transport_url URL", "1 transport URL missing"}},
		{[]string{"cell_v2", "verify_instance", "-h"}, []string{"3 deleted in its cell", "4 archived"}},
		{[]string{"--help"}, []string{"server "}},
		{[]string{"server", "--help"}, []string{"create", "list", "show", "delete"}},
		{[]string{"server", "create", "--help"}, []string{"usage: cellmapctl server create --name NAME --flavor ID --image REF --project PROJECT --user USER [options]",
			"--wait-timeout, --wait_timeout DURATION", "3 refused"}},
		{[]string{"server", "list", "-h"}, []string{"--sort-key, --sort_key KEY", "--all-tenants, --all_tenants"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			r.want(t, exitOK, tc.want...)
			if r.stderr != "" {
				t.Fatalf("stderr: got %q, want nothing", r.stderr)
			}
		})
	}
}

func TestServerUnreachable(t *testing.T) {
	addr := closedAddr(t)
	uuid := "9b3cbd6a-5e36-4b41-9c4e-7d1b1b8e6b0a"
	for _, args := range [][]string{
		{"cell_v2", "list_cells"},
		{"cell_v2", "map_cell0"},
		{"cell_v2", "create_cell", "--transport-url", "rabbit://h/", "--database_connection", "mysql://h/db"},
		{"cell_v2", "update_cell", "--cell_uuid", uuid, "--name", "x"},
		{"cell_v2", "delete_cell", "--cell_uuid", uuid},
		{"cell_v2", "list_hosts"},
		{"cell_v2", "delete_host", "--cell_uuid", uuid, "--host", "h"},
		{"cell_v2", "verify_instance", "--uuid", uuid},
		{"cell_v2", "verify_instance", "--uuid", uuid, "--quiet"},
		{"lookup", uuid},
		{"cluster", "status"},
		{"cluster", "join", "--node-id", "n2", "--raft-addr", "127.0.0.1:1"},
		{"cluster", "remove", "n2"},
		{"flavor", "list"},
		{"flavor", "show", "f1"},
		{"--format", "json", "flavor", "delete", "f1"},
		{"cell_v2", "discover_hosts", "--strict"},
		{"cell_v2", "map_instances", "--cell_uuid", uuid},
		{"cell_v2", "map_instances", "--cell_uuid", uuid, "--max-count", "3"},
		{"cell_v2", "simple_cell_setup", "--transport-url", "rabbit://h/"},
		{"server", "create", "--name", "n", "--flavor", "f", "--image", "i", "--project", "p", "--user", "u", "--wait"},
		{"server", "list", "--all-tenants"},
		{"server", "show", uuid},
		{"server", "delete", uuid},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"--addr", "http://" + addr}, args...)...)
			if r.code != exitUnexpected || !strings.HasPrefix(r.stderr, "An error has occurred:\n") {
				t.Fatalf("got exit %d, stderr %q; want 255 and \"An error has occurred:\"", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "connection refused") {
				t.Fatalf("stderr does not say why: %q", r.stderr)
			}
		})
	}
}

func TestEnvironmentAndGlobalOptions(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	mustCell(t, n, "envcell", "rabbit://u:pw@h:5672/", "mysql://u:pw@db/envcell")

	// CELLMAP_ADDR is the default address.
	r := runCLI(t, map[string]string{"CELLMAP_ADDR": n.Addr}, "cell_v2", "list_cells")
	r.want(t, exitOK, "envcell")
	// --addr beats the environment.
	r = runCLI(t, map[string]string{"CELLMAP_ADDR": closedAddr(t)}, "--addr", n.Addr, "cell_v2", "list_cells")
	r.want(t, exitOK, "envcell")
	// Global options may follow the command, and then beat the environment as well.
	r = runCLI(t, map[string]string{"CELLMAP_ADDR": closedAddr(t), "CELLMAP_FORMAT": "table"},
		"cell_v2", "list_cells", "--addr", n.Addr, "--format", "json")
	var list api.CellList
	decodeJSON(t, r, &list)
	if len(list.Cells) != 1 || list.Cells[0].Name != "envcell" {
		t.Fatalf("got %+v, want the one cell", list.Cells)
	}
	// CELLMAP_FORMAT applies when --format is not given.
	r = runCLI(t, map[string]string{"CELLMAP_ADDR": n.Addr, "CELLMAP_FORMAT": "json"}, "cell_v2", "list_cells")
	decodeJSON(t, r, &list)
	// An exhausted --timeout is an unexpected error (255), not a hang.
	r = ctl(t, n, "--timeout", "1ns", "cell_v2", "list_cells")
	if r.code != exitUnexpected {
		t.Fatalf("--timeout 1ns: got exit %d, want 255\n%s", r.code, r.stderr)
	}
}

func TestHyphenAndUnderscoreSpellings(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	r := ctl(t, n, "cell-v2", "create-cell", "--name", "hy", "--transport_url", "rabbit://h-hy/",
		"--database-connection", "mysql://db/hy", "--verbose")
	r.want(t, exitOK)
	uuid := strings.TrimSpace(r.stdout)
	if !validate.IsUUID(uuid) {
		t.Fatalf("create-cell --verbose printed %q, want a uuid", r.stdout)
	}
	ctl(t, n, "cell_v2", "update-cell", "--cell-uuid", uuid, "--database_connection", "mysql://db/hy2").want(t, exitOK)
	mustHost(t, n, "hy-host", uuid)
	ctl(t, n, "cell_v2", "list-hosts", "--cell-uuid", uuid).want(t, exitOK, "hy-host")
	ctl(t, n, "cell_v2", "delete-host", "--cell-uuid", uuid, "--host", "hy-host").want(t, exitOK)
	ctl(t, n, "cell_v2", "map-cell0", "--database-connection", "mysql://db/c0").want(t, exitOK)
	ctl(t, n, "cell_v2", "verify-instance", "--uuid", uuid, "--quiet").want(t, exitVerifyNotMapped)
	ctl(t, n, "cell_v2", "list-cells", "--verbose").want(t, exitOK, "mysql://db/hy2", "mysql://db/c0")
	ctl(t, n, "cell_v2", "delete-cell", "--cell-uuid", uuid, "--force").want(t, exitOK)
	ctl(t, n, "flavor", "create", "--id", "f", "--name", "f", "--vcpus", "1", "--ram_mb", "64", "--disk_gb", "1",
		"--extra_spec", "a=b").want(t, exitOK, "a=b")
	ctl(t, n, "cluster", "remove", "--node_id", "ghost").want(t, exitRemoveRefused)
}
