package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// answer is a canned HTTP answer.
type answer struct {
	status int
	body   string
}

func apiError(status int, code, msg string) answer {
	return answer{status, fmt.Sprintf(`{"error":{"code":%q,"message":%q}}`, code, msg)}
}

// cannedServer answers "METHOD /path" (query stripped) from routes and fails the test on any
// other request. It stands in for answers the real server cannot give yet (or only in a race).
func cannedServer(t *testing.T, routes map[string]answer) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := routes[r.Method+" "+r.URL.Path]
		if !ok {
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			a = apiError(http.StatusTeapot, "unexpected", "unexpected request")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		fmt.Fprint(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestAnswerMapping checks how API answers map to exit codes, including the answers the real
// server gives only in a race (a concurrent duplicate) or not yet (instances on a host).
func TestAnswerMapping(t *testing.T) {
	const cell = "6f0c1b9e-0000-4000-8000-00000000000a"
	const other = "6f0c1b9e-0000-4000-8000-00000000000b"
	cellList := answer{200, `{"cells":[{"uuid":"` + cell + `","name":"c","transport_url":"rabbit://mq/","database_connection":"mysql://db/c"}]}`}
	emptyList := answer{200, `{"cells":[]}`}
	dup := apiError(409, "duplicate_url", "the specified transport_url and/or database_connection combination already exists "+
		"for another cell with uuid "+other+": transport_url and/or database_connection already used by another cell")
	tests := []struct {
		name    string
		routes  map[string]answer
		args    []string
		code    int
		stdout  string
		inError string // in stderr (255 cases)
	}{
		{"delete_host: instances on the host", map[string]answer{"DELETE /v1/hosts/h1": apiError(409, "instances_exist", "host h1 has instances")},
			[]string{"cell_v2", "delete_host", "--cell_uuid", cell, "--host", "h1"}, exitDeleteHostHasInstances,
			"There are instances on the host h1.\n", ""},
		{"create_cell: duplicate found by the server", map[string]answer{"GET /v1/cells": emptyList, "POST /v1/cells": dup},
			[]string{"cell_v2", "create_cell", "--transport-url", "rabbit://mq2/", "--database_connection", "mysql://db/2"},
			exitCreateCellDuplicate, fmt.Sprintf(msgDuplicateURL, other) + "\n", ""},
		{"update_cell: duplicate found by the server", map[string]answer{"GET /v1/cells": cellList, "PATCH /v1/cells/" + cell: dup},
			[]string{"cell_v2", "update_cell", "--cell_uuid", cell, "--transport-url", "rabbit://mq2/"},
			exitUpdateCellDuplicate, fmt.Sprintf(msgDuplicateURL, other) + "\n", ""},
		{"update_cell: deleted meanwhile", map[string]answer{"GET /v1/cells": cellList, "PATCH /v1/cells/" + cell: apiError(404, "not_found", "gone")},
			[]string{"cell_v2", "update_cell", "--cell_uuid", cell, "--name", "x"},
			exitUpdateCellNotFound, fmt.Sprintf(msgCellNotFound, cell) + "\n", ""},
		{"update_cell: cell0 refused by the server", map[string]answer{"GET /v1/cells": cellList,
			"PATCH /v1/cells/" + cell: apiError(409, "cell0_immutable", "cell0 cannot be disabled or enabled")},
			[]string{"cell_v2", "update_cell", "--cell_uuid", cell, "--disable"},
			exitUpdateCellCell0, "Cell0 cannot be disabled.\n", ""},
		{"update_cell: outcome unknown is a failed save", map[string]answer{"GET /v1/cells": cellList,
			"PATCH /v1/cells/" + cell: apiError(503, "outcome_unknown", "leadership lost")},
			[]string{"cell_v2", "update_cell", "--cell_uuid", cell, "--name", "x"},
			exitUpdateCellSaveFailed, "Unable to update CellMapping: leadership lost\n", ""},
		{"list_cells: server error", map[string]answer{"GET /v1/cells": apiError(500, "internal", "disk on fire")},
			[]string{"cell_v2", "list_cells"}, exitUnexpected, "", "disk on fire"},
		{"list_cells: not JSON", map[string]answer{"GET /v1/cells": {502, "<html>bad gateway</html>"}},
			[]string{"cell_v2", "list_cells"}, exitUnexpected, "", "bad gateway"},
		{"list_cells: undecodable success", map[string]answer{"GET /v1/cells": {200, `{"cells": 7}`}},
			[]string{"cell_v2", "list_cells"}, exitUnexpected, "", "bad answer"},
		{"delete_cell: unexpected code", map[string]answer{"DELETE /v1/cells/" + cell: apiError(412, "revision_mismatch", "changed")},
			[]string{"cell_v2", "delete_cell", "--cell_uuid", cell}, exitUnexpected, "", "revision_mismatch"},
		{"delete_cell: no leader", map[string]answer{"DELETE /v1/cells/" + cell: apiError(503, "no_leader", "no leader")},
			[]string{"cell_v2", "delete_cell", "--cell_uuid", cell}, exitUnexpected, "", "no_leader"},
		{"create_cell: messages before the error", map[string]answer{"GET /v1/cells": apiError(503, "no_leader", "no leader")},
			[]string{"--base-transport-url", "rabbit://mq-base/", "cell_v2", "create_cell", "--database_connection", "mysql://db/x"},
			exitUnexpected, msgTransportFromCfg + "\n", "no_leader"},
		{"verify_instance: server error", map[string]answer{"GET /v1/instance-mappings/" + cell + "/verify": apiError(500, "internal", "boom")},
			[]string{"cell_v2", "verify_instance", "--uuid", cell, "--quiet"}, exitUnexpected, "", "boom"},
		{"verify_instance: no verify endpoint, lookup error", map[string]answer{
			"GET /v1/instance-mappings/" + cell + "/verify": apiError(404, "no_such_endpoint", "no such endpoint"),
			"GET /v1/instance-mappings/" + cell:             apiError(500, "internal", "boom")},
			[]string{"cell_v2", "verify_instance", "--uuid", cell, "--quiet"}, exitUnexpected, "", "boom"},
		{"verify_instance: no verify endpoint, mapped", map[string]answer{
			"GET /v1/instance-mappings/" + cell + "/verify": apiError(404, "no_such_endpoint", "no such endpoint"),
			"GET /v1/instance-mappings/" + cell: {200, `{"instance_uuid":"` + cell + `","cell_uuid":"` + other + `","project_id":"p",` +
				`"cell":{"uuid":"` + other + `","name":"c2","transport_url":"rabbit://mq/","database_connection":"mysql://db/c"}}`}},
			[]string{"cell_v2", "verify_instance", "--uuid", cell}, exitOK, "Instance " + cell + " is in cell: c2 (" + other + ")\n", ""},
		{"verify_instance: unknown state", map[string]answer{"GET /v1/instance-mappings/" + cell + "/verify": {200,
			`{"instance_mapping":{"instance_uuid":"` + cell + `","cell_uuid":"` + other + `","project_id":"p"},"instance":"haunted"}`}},
			[]string{"cell_v2", "verify_instance", "--uuid", cell}, exitUnexpected, "", "haunted"},
		{"discover_hosts: duplicate host mapping", map[string]answer{"POST /v1/hosts/discover": apiError(409, "host_mapping_exists",
			"duplicate host mapping was encountered: host h1 is mapped already")},
			[]string{"cell_v2", "discover_hosts", "--strict", "--verbose"}, exitDiscoverDuplicate,
			fmt.Sprintf(msgDuplicateHostMapping, "duplicate host mapping was encountered: host h1 is mapped already") + "\n", ""},
		{"discover_hosts: no data plane", map[string]answer{"POST /v1/hosts/discover": apiError(404, "no_such_endpoint", "no such endpoint")},
			[]string{"cell_v2", "discover_hosts"}, exitUnexpected, "", "no_such_endpoint"},
		{"map_instances: refused by the server", map[string]answer{"POST /v1/cells/" + cell + "/map-instances": apiError(400, "invalid",
			"max_count must be 1..10000: invalid request")},
			[]string{"cell_v2", "map_instances", "--cell_uuid", cell, "--max-count", "20000"}, exitUnexpected, "", "max_count must be"},
		{"map_instances: no data plane", map[string]answer{"POST /v1/cells/" + cell + "/map-instances": apiError(404, "no_such_endpoint", "no such endpoint")},
			[]string{"cell_v2", "map_instances", "--cell_uuid", cell}, exitUnexpected, "", "no_such_endpoint"},
		{"simple_cell_setup: no conductors endpoint", map[string]answer{"POST /v1/cells/cell0": {200, `{"uuid":"00000000-0000-0000-0000-000000000000","name":"cell0","transport_url":"none:///"}`},
			"GET /v1/conductors": apiError(404, "no_such_endpoint", "no such endpoint")},
			[]string{"cell_v2", "simple_cell_setup", "--transport-url", "rabbit://mq/"}, exitUnexpected, "Cell0 is already setup\n", "no_such_endpoint"},
		{"server delete: cell down, no cells named", map[string]answer{"DELETE /v1/servers/" + cell: apiError(503, "cell_down", "cell is down")},
			[]string{"server", "delete", cell}, exitServerCellDown, "cell is down\n", ""},
		{"server create: project cell down", map[string]answer{"POST /v1/servers": {503,
			`{"error":{"code":"project_cell_down","message":"project p has servers in cells that are down","cells":["` + cell + `","` + other + `"]}}`}},
			[]string{"server", "create", "--name", "n", "--flavor", "f", "--image", "i", "--project", "p", "--user", "u"}, exitServerCellDown,
			"project p has servers in cells that are down\nCells down or not answering: " + cell + ", " + other + "\n", ""},
		{"server show: unexpected", map[string]answer{"GET /v1/servers/" + cell: apiError(503, "no_leader", "no leader")},
			[]string{"server", "show", cell}, exitUnexpected, "", "no_leader"},
		{"server list: not found is unexpected", map[string]answer{"GET /v1/servers": apiError(404, "no_such_endpoint", "no such endpoint")},
			[]string{"server", "list", "--project", "p"}, exitUnexpected, "", "no_such_endpoint"},
		{"map_cell0: server error", map[string]answer{"POST /v1/cells/cell0": apiError(503, "busy", "busy")},
			[]string{"cell_v2", "map_cell0"}, exitUnexpected, "", "busy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := cannedServer(t, tc.routes)
			r := runCLI(t, nil, append([]string{"--addr", addr}, tc.args...)...)
			r.wantExact(t, tc.code, tc.stdout)
			if tc.code == exitUnexpected {
				if !strings.HasPrefix(r.stderr, "An error has occurred:\n") || !strings.Contains(r.stderr, tc.inError) {
					t.Fatalf("stderr: got %q, want the 255 message with %q", r.stderr, tc.inError)
				}
			} else if r.stderr != "" {
				t.Fatalf("stderr: got %q, want nothing", r.stderr)
			}
		})
	}
}
