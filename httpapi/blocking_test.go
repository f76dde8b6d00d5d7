package httpapi_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

func indexOf(t *testing.T, a answer) uint64 {
	t.Helper()
	i, err := strconv.ParseUint(a.header.Get(api.HeaderIndex), 10, 64)
	if err != nil {
		t.Fatalf("no %s: %v (%s)", api.HeaderIndex, err, a.raw)
	}
	return i
}

// TestBlockingQueryWakesOnWrite: a reader's blocking GET (?index= from the previous answer,
// a wait far longer than the test) returns with the new record once a write of its kind is
// applied. Role: reader may block (GET routes need read); no token is refused with 401.
func TestBlockingQueryWakesOnWrite(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	reader := tokensByRole(t, n)[acl.RoleReader]
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellB, "b", "rabbit://b/", "mysql://b"))
	call(t, n.Addr, "PUT", "/v1/instance-mappings/"+inst1, `{"cell_uuid":"`+cellA+`","project_id":"p1"}`)
	first := call(t, n.Addr, "GET", "/v1/instance-mappings/"+inst1, "", "Authorization", bearerOf(reader))
	idx := indexOf(t, first)

	if a := call(t, n.Addr, "GET", "/v1/instance-mappings/"+inst1+"?index=1&wait=1s", "", "Authorization", ""); a.status != 401 {
		t.Fatalf("no token: got %d %s, want 401", a.status, a.raw)
	}
	for _, prefix := range []string{"/v1/instance-mappings/" + inst1 + "?", "/v1/instance-mappings?consistency=stale&"} {
		path := prefix + "index=" + strconv.FormatUint(idx, 10) + "&wait=10m"
		done := make(chan answer, 1)
		go func() { done <- call(t, n.Addr, "GET", path, "", "Authorization", bearerOf(reader)) }()
		moved := call(t, n.Addr, "PUT", "/v1/instance-mappings/"+inst1, `{"cell_uuid":"`+cellB+`","project_id":"p1"}`)
		cell := map[bool]string{true: cellA, false: cellB}[moved.body["cell_uuid"] == cellA]
		select {
		case a := <-done:
			if a.status != 200 || indexOf(t, a) < indexOf(t, moved) {
				t.Fatalf("%s: got %d %s index %d, want 200 at index >= %d", path, a.status, a.raw, indexOf(t, a), indexOf(t, moved))
			}
			if !containsCell(a, cell) {
				t.Fatalf("%s: got %s, want the mapping in cell %s", path, a.raw, cell)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: a write did not wake the blocking query", path)
		}
		// Move it back for the next round.
		call(t, n.Addr, "PUT", "/v1/instance-mappings/"+inst1, `{"cell_uuid":"`+cellA+`","project_id":"p1"}`)
		idx = indexOf(t, call(t, n.Addr, "GET", "/v1/instance-mappings/"+inst1, ""))
	}
}

func containsCell(a answer, cell string) bool {
	if a.body["cell_uuid"] == cell {
		return true
	}
	ms, _ := a.body["instance_mappings"].([]any)
	for _, m := range ms {
		if m.(map[string]any)["cell_uuid"] == cell {
			return true
		}
	}
	return false
}

// TestBlockingQueryTimesOut: without a change of its kind (a flavor write is another kind) a
// blocking GET answers the unchanged record after its wait, never before it. Role: reader.
func TestBlockingQueryTimesOut(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	call(t, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	idx := indexOf(t, call(t, n.Addr, "GET", "/v1/cells/"+cellA, ""))
	if a := call(t, n.Addr, "POST", "/v1/flavors", `{"id":"1","name":"m1","vcpus":1,"ram_mb":512,"disk_gb":1}`); a.status >= 300 {
		t.Fatalf("flavor: %d %s", a.status, a.raw)
	}
	const wait = 300 * time.Millisecond
	start := time.Now()
	a := call(t, n.Addr, "GET", "/v1/cells/"+cellA+"?index="+strconv.FormatUint(idx, 10)+"&wait="+wait.String(), "")
	if took := time.Since(start); took < wait {
		t.Fatalf("answered after %v, before its wait of %v without a change", took, wait)
	}
	if a.status != 200 || a.body["uuid"] != cellA {
		t.Fatalf("got %d %s, want the cell", a.status, a.raw)
	}
}

// TestBlockingQueryBadParams: malformed blocking parameters are refused with 400 and change
// nothing. Role: reader (the admin token of call has it).
func TestBlockingQueryBadParams(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	before := checksum(t, n.Addr)
	runSteps(t, n.Addr, []step{
		{name: "index not a number", method: "GET", path: "/v1/cells?index=x", status: 400, code: api.CodeInvalid},
		{name: "negative index", method: "GET", path: "/v1/cells?index=-1", status: 400, code: api.CodeInvalid},
		{name: "wait without index", method: "GET", path: "/v1/cells?wait=1s", status: 400, code: api.CodeInvalid},
		{name: "bad wait", method: "GET", path: "/v1/cells?index=1&wait=soon", status: 400, code: api.CodeInvalid},
		{name: "negative wait", method: "GET", path: "/v1/cells?index=1&wait=-1s", status: 400, code: api.CodeInvalid},
		{name: "index 0 does not block", method: "GET", path: "/v1/cells?index=0&wait=10m", status: 200},
		{name: "nor a token", method: "GET", path: "/v1/acl/token/self?index=3", status: 400, code: api.CodeInvalid},
		{name: "nor is the cluster status", method: "GET", path: "/v1/cluster/status?wait=1s", status: 400, code: api.CodeInvalid},
	})
	if after := checksum(t, n.Addr); after != before {
		t.Fatalf("checksum moved from %s to %s", before, after)
	}
}

// TestBlockingQueryEveryRecordKind: every GET of a record or listing outside the mappings
// (images, aggregates, zones, server groups, quotas) blocks until a write of a kind its answer
// depends on, and the answer carries that write. Role: a reader blocks on each (GET needs
// read); the writes are an admin's.
func TestBlockingQueryEveryRecordKind(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	reader := bearerOf(tokensByRole(t, n)[acl.RoleReader])
	agg := call(t, n.Addr, "POST", "/v1/aggregates", `{"name": "rack1"}`)
	group := call(t, n.Addr, "POST", "/v1/server-groups", `{"name": "g", "project_id": "p1", "policy": "anti-affinity"}`)
	image := call(t, n.Addr, "POST", "/v1/images", `{"id": "i2", "name": "debian", "disk_format": "raw", "container_format": "bare"}`)
	if agg.status != 201 || group.status != 201 || image.status != 201 {
		t.Fatalf("setup: aggregate %d %s, group %d %s", agg.status, agg.raw, group.status, group.raw)
	}
	aggID, groupID := agg.body["id"].(string), group.body["id"].(string)
	for _, tc := range []struct {
		get, method, path, body string
	}{
		{"/v1/images", "POST", "/v1/images", `{"id": "i1", "name": "cirros", "disk_format": "qcow2", "container_format": "bare"}`},
		{"/v1/images/i2", "DELETE", "/v1/images/i2", ""},
		{"/v1/aggregates", "POST", "/v1/aggregates", `{"name": "rack2"}`},
		{"/v1/aggregates/" + aggID, "PUT", "/v1/aggregates/" + aggID, `{"metadata": {"ssd": "true"}}`},
		{"/v1/availability-zones", "POST", "/v1/aggregates", `{"name": "rack3", "availability_zone": "az3"}`},
		{"/v1/server-groups", "POST", "/v1/server-groups", `{"name": "g2", "project_id": "p1", "policy": "affinity"}`},
		{"/v1/server-groups/" + groupID, "DELETE", "/v1/server-groups/" + groupID, ""},
		{"/v1/quotas/p1", "PUT", "/v1/quotas/p1", `{"instances": 7}`},
		{"/v1/quota-defaults", "PUT", "/v1/quota-defaults", `{"cores": 33}`},
	} {
		t.Run(tc.get, func(t *testing.T) {
			first := call(t, n.Addr, "GET", tc.get, "", "Authorization", reader)
			if first.status != 200 {
				t.Fatalf("GET %s: %d %s", tc.get, first.status, first.raw)
			}
			done := make(chan answer, 1)
			path := tc.get + "?index=" + strconv.FormatUint(indexOf(t, first), 10) + "&wait=10m"
			go func() { done <- call(t, n.Addr, "GET", path, "", "Authorization", reader) }()
			w := call(t, n.Addr, tc.method, tc.path, tc.body)
			if w.status >= 300 {
				t.Fatalf("%s %s: %d %s", tc.method, tc.path, w.status, w.raw)
			}
			written := n.Node.AppliedIndex()
			select {
			case a := <-done:
				// A deleted record answers 404; every other answer is the changed record.
				if (a.status != 200 && a.status != 404) || indexOf(t, a) < written {
					t.Fatalf("%s: got %d %s at index %s, want the answer after index %d", path, a.status, a.raw, a.header.Get(api.HeaderIndex), written)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("%s: the %s %s did not wake the blocking query", path, tc.method, tc.path)
			}
		})
	}
}
