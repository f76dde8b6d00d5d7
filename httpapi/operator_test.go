package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/backup"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// The operator endpoints. Role: admin for both (GET /v1/operator/backup, POST
// /v1/operator/restore); TestEveryRouteEnforcesItsRole checks that lower roles are refused.

// getBackup fetches a backup over HTTP.
func getBackup(t *testing.T, addr string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/operator/backup", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testkit.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("backup: %d %s: %.200q", resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	return data
}

// TestOperatorBackupRestore: role admin. A backup streams a verified copy of the state; a
// restore of something that is not a valid backup answers 400 invalid, of a body over the
// limit 413, and changes nothing; a good one answers 200 with its header.
func TestOperatorBackupRestore(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	runSteps(t, n.Addr, []step{
		{name: "create cell", method: "POST", path: "/v1/cells", body: cellBody(cellA, "cell1", "rabbit://a/", "mysql://a/"), status: 201},
		{name: "map instance", method: "PUT", path: "/v1/instance-mappings/" + inst1, body: `{"cell_uuid":"` + cellA + `","project_id":"p"}`, status: 200},
	})
	want := checksum(t, n.Addr)
	data := getBackup(t, n.Addr)
	ex, err := backup.Extract(bytes.NewReader(data), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ex.Remove()
	if ex.Header.FSMChecksum != want {
		t.Fatalf("backup checksum %s, state's %s", ex.Header.FSMChecksum, want)
	}
	runSteps(t, n.Addr, []step{
		{name: "map another instance", method: "PUT", path: "/v1/instance-mappings/" + inst2, body: `{"cell_uuid":"` + cellA + `","project_id":"p"}`, status: 200},
	})
	changed := checksum(t, n.Addr)

	runSteps(t, n.Addr, []step{
		{name: "empty body", method: "POST", path: "/v1/operator/restore", body: "", status: 400, code: "invalid"},
		{name: "JSON body", method: "POST", path: "/v1/operator/restore", body: `{"restore":true}`, status: 400, code: "invalid",
			check: func(t *testing.T, a answer) {
				if !strings.Contains(a.raw, "not a cellmap backup") {
					t.Fatalf("message: %s", a.raw)
				}
			}},
		{name: "truncated", method: "POST", path: "/v1/operator/restore", body: string(data[:len(data)-1]), status: 400, code: "invalid"},
		{name: "bytes after the backup", method: "POST", path: "/v1/operator/restore", body: string(data) + "\n", status: 400, code: "invalid"},
		{name: "restore is a POST", method: "GET", path: "/v1/operator/restore", status: 405, code: "method_not_allowed"},
		{name: "backup is a GET", method: "POST", path: "/v1/operator/backup", status: 405, code: "method_not_allowed"},
	})
	if got := checksum(t, n.Addr); got != changed {
		t.Fatalf("refused restores changed the checksum from %s to %s", changed, got)
	}
	runSteps(t, n.Addr, []step{
		{name: "restore", method: "POST", path: "/v1/operator/restore", body: string(data), status: 200, check: field("fsm_checksum", want)},
		{name: "written after the backup", method: "GET", path: "/v1/instance-mappings/" + inst2, status: 404, code: "not_found"},
		{name: "in the backup", method: "GET", path: "/v1/instance-mappings/" + inst1, status: 200},
	})
	if got := checksum(t, n.Addr); got != want {
		t.Fatalf("checksum after the restore %s, want %s", got, want)
	}
}

// TestOperatorRestoreLimit: role admin. A backup larger than RestoreMaxBytes answers 413 and
// changes nothing.
func TestOperatorRestoreLimit(t *testing.T) {
	n := testcluster.StartNode(t, &testcluster.Options{APIConfig: func(c *httpapi.Config) { c.RestoreMaxBytes = 4 << 10 }})
	data := getBackup(t, n.Addr)
	before := checksum(t, n.Addr)
	runSteps(t, n.Addr, []step{
		{name: "over the limit", method: "POST", path: "/v1/operator/restore", body: string(data), status: 413, code: "request_too_large"},
	})
	if got := checksum(t, n.Addr); got != before {
		t.Fatalf("checksum %s, want %s", got, before)
	}
}

// TestOperatorEndpointsNeedAnOperator: without one the endpoints do not exist.
func TestOperatorEndpointsNeedAnOperator(t *testing.T) {
	n := testcluster.StartNode(t, &testcluster.Options{APIConfig: func(c *httpapi.Config) { c.Operator = nil }})
	runSteps(t, n.Addr, []step{
		{name: "backup", method: "GET", path: "/v1/operator/backup", status: 404, code: "no_such_endpoint"},
	})
}
