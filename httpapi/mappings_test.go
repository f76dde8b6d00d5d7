package httpapi_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/transport"
)

func TestHosts(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellB, "b", "rabbit://b/", "mysql://b"))
	runSteps(t, n.Addr, []step{
		{name: "map", method: "PUT", path: "/v1/hosts/compute2", body: `{"cell_uuid":"` + cellA + `"}`, status: 200, check: field("cell_uuid", cellA)},
		{name: "map another", method: "PUT", path: "/v1/hosts/compute1", body: `{"cell_uuid":"` + cellB + `"}`, status: 200},
		{name: "map create-only exists", method: "PUT", path: "/v1/hosts/compute1", body: `{"cell_uuid":"` + cellA + `"}`, hdr: []string{"If-None-Match", "*"}, status: 412, code: api.CodeAlreadyExists},
		{name: "unknown cell", method: "PUT", path: "/v1/hosts/compute3", body: `{"cell_uuid":"` + inst1 + `"}`, status: 404, code: api.CodeUnknownCell},
		{name: "get", method: "GET", path: "/v1/hosts/compute1", status: 200, check: field("cell_uuid", cellB)},
		{name: "get unmapped", method: "GET", path: "/v1/hosts/nohost", status: 404, code: api.CodeNotFound},
		{name: "list sorted", method: "GET", path: "/v1/hosts", status: 200, check: func(t *testing.T, a answer) {
			hosts := a.body["hosts"].([]any)
			if len(hosts) != 2 || hosts[0].(map[string]any)["host"] != "compute1" || hosts[0].(map[string]any)["cell_name"] != "b" {
				t.Fatalf("got %s, want compute1 (cell b) then compute2", a.raw)
			}
		}},
		{name: "list by cell", method: "GET", path: "/v1/hosts?cell_uuid=" + cellA, status: 200, check: func(t *testing.T, a answer) {
			if hosts := a.body["hosts"].([]any); len(hosts) != 1 {
				t.Fatalf("got %s, want only compute2", a.raw)
			}
		}},
		{name: "list unknown cell", method: "GET", path: "/v1/hosts?cell_uuid=" + inst1, status: 404, code: api.CodeUnknownCell},
		{name: "delete in other cell", method: "DELETE", path: "/v1/hosts/compute1?cell_uuid=" + cellA, status: 409, code: api.CodeCellMismatch},
		{name: "delete with unknown cell", method: "DELETE", path: "/v1/hosts/compute1?cell_uuid=" + inst1, status: 404, code: api.CodeUnknownCell},
		{name: "delete unmapped", method: "DELETE", path: "/v1/hosts/nohost?cell_uuid=" + cellA, status: 404, code: api.CodeNotFound},
		{name: "delete", method: "DELETE", path: "/v1/hosts/compute1?cell_uuid=" + cellB, status: 204},
		{name: "cell with hosts", method: "DELETE", path: "/v1/cells/" + cellA, status: 409, code: api.CodeHostsMapped},
		{name: "force", method: "DELETE", path: "/v1/cells/" + cellA + "?force=true", status: 204},
		{name: "host gone with its cell", method: "GET", path: "/v1/hosts/compute2", status: 404, code: api.CodeNotFound},
	})
}

func TestInstanceMappings(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	var rev string
	runSteps(t, n.Addr, []step{
		{name: "create unscheduled", method: "PUT", path: "/v1/instance-mappings/" + inst1, body: `{"cell_uuid":null,"project_id":"p1","user_id":"u1"}`, hdr: []string{"If-None-Match", "*"}, status: 201,
			check: func(t *testing.T, a answer) {
				if a.body["cell_uuid"] != nil || a.body["user_id"] != "u1" {
					t.Fatalf("got %s, want cell_uuid null and user u1", a.raw)
				}
				rev = strconv.FormatFloat(a.body["revision"].(float64), 'f', 0, 64)
			}},
		{name: "create again", method: "PUT", path: "/v1/instance-mappings/" + inst1, body: `{"project_id":"p1"}`, hdr: []string{"If-None-Match", "*"}, status: 412, code: api.CodeAlreadyExists},
		{name: "unknown cell", method: "PUT", path: "/v1/instance-mappings/" + inst2, body: `{"cell_uuid":"` + cellB + `","project_id":"p1"}`, status: 404, code: api.CodeUnknownCell},
		{name: "create without user", method: "PUT", path: "/v1/instance-mappings/" + inst2, body: `{"cell_uuid":"` + cellA + `","project_id":"p2"}`, status: 200, check: field("user_id", nil)},
		{name: "create third", method: "PUT", path: "/v1/instance-mappings/" + inst3, body: `{"cell_uuid":"` + cellA + `","project_id":"p1"}`, status: 200},
		{name: "get", method: "GET", path: "/v1/instance-mappings/" + inst2, status: 200, check: field("project_id", "p2")},
		{name: "get with cell", method: "GET", path: "/v1/instance-mappings/" + inst2 + "?with_cell=true", status: 200, check: func(t *testing.T, a answer) {
			if c, ok := a.body["cell"].(map[string]any); !ok || c["uuid"] != cellA {
				t.Fatalf("got %s, want the cell embedded", a.raw)
			}
		}},
		{name: "get stale", method: "GET", path: "/v1/instance-mappings/" + inst2 + "?consistency=stale&max_stale=10s", status: 200},
		{name: "get missing", method: "GET", path: "/v1/instance-mappings/" + "aaaaaaaa-0000-0000-0000-000000000009", status: 404, code: api.CodeNotFound},
		{name: "list page", method: "GET", path: "/v1/instance-mappings?limit=2", status: 200, check: field("next_marker", inst2)},
		{name: "list next page", method: "GET", path: "/v1/instance-mappings?limit=2&marker=" + inst2, status: 200, check: func(t *testing.T, a answer) {
			ms := a.body["instance_mappings"].([]any)
			if len(ms) != 1 || ms[0].(map[string]any)["instance_uuid"] != inst3 || a.body["next_marker"] != nil {
				t.Fatalf("got %s, want only %s and no next marker", a.raw, inst3)
			}
		}},
		{name: "list project", method: "GET", path: "/v1/instance-mappings?project_id=p1", status: 200, check: func(t *testing.T, a answer) {
			if ms := a.body["instance_mappings"].([]any); len(ms) != 2 {
				t.Fatalf("got %s, want 2 mappings of p1", a.raw)
			}
		}},
		{name: "list cell", method: "GET", path: "/v1/instance-mappings?cell_uuid=" + cellA, status: 200, check: func(t *testing.T, a answer) {
			if ms := a.body["instance_mappings"].([]any); len(ms) != 2 {
				t.Fatalf("got %s, want 2 mappings in cell a", a.raw)
			}
		}},
		{name: "list bad limit", method: "GET", path: "/v1/instance-mappings?limit=0", status: 400, code: api.CodeInvalid},
		{name: "list unknown marker with a filter", method: "GET", path: "/v1/instance-mappings?project_id=p1&marker=" + cellB, status: 400, code: api.CodeMarkerNotFound},
		{name: "list bad marker", method: "GET", path: "/v1/instance-mappings?marker=zz", status: 400, code: api.CodeInvalid},
		{name: "cas wrong revision", method: "PUT", path: "/v1/instance-mappings/" + inst1, body: `{"cell_uuid":"` + cellA + `","project_id":"p1"}`, hdr: []string{"If-Match", "999999"}, status: 412, code: api.CodeRevisionMismatch},
	})
	runSteps(t, n.Addr, []step{
		{name: "cas right revision", method: "PUT", path: "/v1/instance-mappings/" + inst1, body: `{"cell_uuid":"` + cellA + `","project_id":"p1","user_id":"u1"}`, hdr: []string{"If-Match", `"` + rev + `"`}, status: 200, check: field("cell_uuid", cellA)},
		{name: "delete wrong revision", method: "DELETE", path: "/v1/instance-mappings/" + inst1, hdr: []string{"If-Match", rev}, status: 412, code: api.CodeRevisionMismatch},
		{name: "delete", method: "DELETE", path: "/v1/instance-mappings/" + inst1, status: 204},
		{name: "delete again", method: "DELETE", path: "/v1/instance-mappings/" + inst1, status: 404, code: api.CodeNotFound},
		{name: "delete with If-None-Match", method: "DELETE", path: "/v1/instance-mappings/" + inst2, hdr: []string{"If-None-Match", "*"}, status: 400, code: api.CodeInvalid},
		{name: "cell with live instances", method: "DELETE", path: "/v1/cells/" + cellA + "?force=true", status: 409, code: api.CodeInstancesExist},
	})
}

func TestTxn(t *testing.T) {
	n := testcluster.StartNode(t, &testcluster.Options{APIConfig: func(c *httpapi.Config) { c.TxnMaxOps = 3 }})
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	im := func(op, uuid string, extra string) string {
		return `{"op":"` + op + `","table":"instance_mapping","instance_mapping":{"instance_uuid":"` + uuid + `","cell_uuid":"` + cellA + `","project_id":"p"}` + extra + `}`
	}
	failed := func(want float64) func(t *testing.T, a answer) {
		return func(t *testing.T, a answer) {
			if got := a.body["error"].(map[string]any)["failed_op"]; got != want {
				t.Fatalf("failed_op: got %v, want %v", got, want)
			}
		}
	}
	runSteps(t, n.Addr, []step{
		{name: "atomic create", method: "POST", path: "/v1/txn", body: `{"ops":[` + im("put", inst1, `,"if_absent":true`) + `,` + im("put", inst2, `,"if_absent":true`) + `,{"op":"put","table":"host_mapping","host_mapping":{"host":"h1","cell_uuid":"` + cellA + `"}}]}`, status: 200},
		{name: "precondition fails", method: "POST", path: "/v1/txn", body: `{"ops":[` + im("put", inst3, "") + `,` + im("put", inst1, `,"if_absent":true`) + `]}`, status: 412, code: api.CodeAlreadyExists, check: failed(1)},
		{name: "nothing of it applied", method: "GET", path: "/v1/instance-mappings/" + inst3, status: 404, code: api.CodeNotFound},
		{name: "check and delete", method: "POST", path: "/v1/txn", body: `{"ops":[{"op":"check","table":"host_mapping","key":"h1","if_cell":"` + cellA + `"},{"op":"delete","table":"instance_mapping","key":"` + inst2 + `"}]}`, status: 200},
		{name: "put_if_absent skips existing", method: "POST", path: "/v1/txn", body: `{"ops":[` + im("put_if_absent", inst1, "") + `,` + im("put_if_absent", inst3, "") + `]}`, status: 200},
		{name: "invalid op index", method: "POST", path: "/v1/txn", body: `{"ops":[` + im("put", inst2, "") + `,{"op":"delete","table":"instance_mapping","key":"bad"}]}`, status: 400, code: api.CodeInvalid, check: failed(1)},
		{name: "unknown table", method: "POST", path: "/v1/txn", body: `{"ops":[{"op":"delete","table":"cells","key":"x"}]}`, status: 400, code: api.CodeInvalid},
		{name: "same key twice", method: "POST", path: "/v1/txn", body: `{"ops":[` + im("put", inst2, "") + `,` + im("put", inst2, "") + `]}`, status: 400, code: api.CodeInvalid},
		{name: "too many ops", method: "POST", path: "/v1/txn", body: `{"ops":[` + im("put", inst1, "") + `,` + im("put", inst2, "") + `,` + im("put", inst3, "") + `,` + im("put", cellB, "") + `]}`, status: 400, code: api.CodeInvalid},
		{name: "no ops", method: "POST", path: "/v1/txn", body: `{"ops":[]}`, status: 400, code: api.CodeInvalid},
	})
}

func TestFlavorsClusterHealth(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	flavor := `{"id":"1","name":"m1.tiny","vcpus":1,"ram_mb":512,"disk_gb":1,"extra_specs":{"hw:cpu_policy":"dedicated"}}`
	runSteps(t, n.Addr, []step{
		{name: "create flavor", method: "POST", path: "/v1/flavors", body: flavor, status: 201, check: field("name", "m1.tiny")},
		{name: "duplicate flavor", method: "POST", path: "/v1/flavors", body: flavor, status: 409, code: api.CodeAlreadyExists},
		{name: "server-set fields", method: "POST", path: "/v1/flavors", body: `{"id":"2","name":"x","vcpus":1,"ram_mb":1,"disk_gb":1,"revision":3}`, status: 400, code: api.CodeInvalid},
		{name: "list flavors", method: "GET", path: "/v1/flavors", status: 200, check: func(t *testing.T, a answer) {
			if fs := a.body["flavors"].([]any); len(fs) != 1 {
				t.Fatalf("got %s, want one flavor", a.raw)
			}
		}},
		{name: "get flavor", method: "GET", path: "/v1/flavors/1", status: 200, check: func(t *testing.T, a answer) {
			if a.body["extra_specs"].(map[string]any)["hw:cpu_policy"] != "dedicated" {
				t.Fatalf("extra specs lost: %s", a.raw)
			}
		}},
		{name: "get missing flavor", method: "GET", path: "/v1/flavors/9", status: 404, code: api.CodeNotFound},
		{name: "delete flavor", method: "DELETE", path: "/v1/flavors/1", status: 204},
		{name: "delete missing flavor", method: "DELETE", path: "/v1/flavors/1", status: 404, code: api.CodeNotFound},
		{name: "status", method: "GET", path: "/v1/cluster/status", status: 200, check: func(t *testing.T, a answer) {
			if a.body["state"] != "Leader" || a.body["leader_id"] != "n1" || a.body["leader_http_addr"] != n.Addr ||
				len(a.body["servers"].([]any)) != 1 || a.body["fsm_checksum"] == "" {
				t.Fatalf("got %s, want a one-node leader status with a checksum", a.raw)
			}
		}},
		{name: "join without id", method: "POST", path: "/v1/cluster/join", body: `{"raft_addr":"127.0.0.1:1"}`, status: 400, code: api.CodeInvalid},
		{name: "join of an address where no node answers", method: "POST", path: "/v1/cluster/join", body: `{"node_id":"evil","raft_addr":"127.0.0.1:1"}`, status: 400, code: api.CodeMemberUnreachable},
		{name: "join of the leader's id elsewhere", method: "POST", path: "/v1/cluster/join", body: `{"node_id":"n1","raft_addr":"127.0.0.1:1"}`, status: 409, code: api.CodeMemberExists},
		{name: "remove the only voter", method: "DELETE", path: "/v1/cluster/servers/n1", status: 409, code: api.CodeQuorumAtRisk},
		{name: "remove unknown", method: "DELETE", path: "/v1/cluster/servers/ghost", status: 404, code: api.CodeUnknownServer},
		{name: "healthz", method: "GET", path: "/healthz", status: 200, check: field("status", "ok")},
		{name: "readyz", method: "GET", path: "/readyz", status: 200, check: field("status", "ok")},
	})
}

func TestFaultEndpointOnlyWhenEnabled(t *testing.T) {
	plain := testcluster.StartNode(t, nil)
	runSteps(t, plain.Addr, []step{
		{name: "absent by default", method: "POST", path: "/internal/faults", body: `{"delay_ms":5}`, status: 404},
	})
	f := transport.NewFaults()
	n := testcluster.StartNode(t, &testcluster.Options{APIConfig: func(c *httpapi.Config) { c.Faults = f }})
	runSteps(t, n.Addr, []step{
		{name: "set delay", method: "POST", path: "/internal/faults", body: `{"delay_ms":5,"drop":["127.0.0.1:9"]}`, status: 200},
		{name: "bad delay", method: "POST", path: "/internal/faults", body: `{"delay_ms":-1}`, status: 400, code: api.CodeInvalid},
	})
	if f.Delay() != 5*time.Millisecond {
		t.Fatalf("got delay %v, want 5ms", f.Delay())
	}
}
