package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/poll"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// fuzzPost posts body to path and checks the property of every request body: never a panic
// (the node would stop answering) nor a 5xx, and a refused body writes nothing.
// settle, when set, waits until earlier accepted requests have finished writing (servers are
// scheduled in the background).
func fuzzPost(t *testing.T, addr, path string, body []byte, settle func(t *testing.T)) {
	if settle != nil {
		settle(t)
	}
	before := checksum(t, addr)
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testkit.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 500:
		t.Fatalf("POST %s %q: %d, want 2xx or 4xx", path, body, resp.StatusCode)
	case resp.StatusCode >= 400:
		if after := checksum(t, addr); after != before {
			t.Fatalf("POST %s %q was refused with %d but changed the state", path, body, resp.StatusCode)
		}
	}
}

// FuzzTxnBody sends arbitrary bodies to POST /v1/txn of a real node.
func FuzzTxnBody(f *testing.F) {
	for _, s := range []string{
		`{"ops":[{"op":"put","table":"instance_mapping","key":"` + inst1 + `","instance_mapping":{"instance_uuid":"` + inst1 + `","project_id":"p"}}]}`,
		`{"ops":[{"op":"delete","table":"host_mapping","key":"h1"}]}`,
		`{"ops":[{"op":"check","table":"instance_mapping","key":"` + inst2 + `","if_revision":3}]}`,
		`{"ops":[]}`, `{"ops":null}`, `{}`, `[]`, `{"ops":[{"op":"put"}]}`, "{\"ops\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	n := testcluster.StartNode(f, nil)
	call(f, n.Addr, "POST", "/v1/cells", cellBody(cellA, "a", "rabbit://a/", "mysql://a"))
	f.Fuzz(func(t *testing.T, body []byte) { fuzzPost(t, n.Addr, "/v1/txn", body, nil) })
}

// FuzzServerCreateBody sends arbitrary bodies to POST /v1/servers of a node with a cell.
func FuzzServerCreateBody(f *testing.F) {
	for _, s := range []string{
		serverBody("vm", nil), serverBody("vm", map[string]string{"k": "v"}), serverBody("", nil),
		`{"server":{"name":"vm","flavor_ref":"1","image_ref":"i","project_id":"p","user_id":"u","availability_zone":"az"}}`,
		`{"server":{}}`, `{"server":null}`, `{}`, `{"server":{"name":1}}`, "{\"server\":{\"name\":\"\x01\"}}",
		serverBody("\u009b31mvm", nil), serverBody(strings.Repeat("世", 255), nil), serverBody(strings.Repeat("世", 256), nil),
		serverBody("vm", map[string]string{strings.Repeat("é", 128): "v"}),
	} {
		f.Add([]byte(s))
	}
	dp := testcluster.StartDataPlane(f, nil)
	dp.AddCell(f, "cell1", cellA, "h1:1000:1000000:100000")
	call(f, dp.Addr, "POST", "/v1/flavors", `{"id":"1","name":"small","vcpus":1,"ram_mb":1,"disk_gb":0}`)
	settle := func(t *testing.T) {
		if err := poll.Until(context.Background(), 10*time.Second, func(context.Context) bool { return dp.Proxy.Scheduling() == 0 }); err != nil {
			t.Fatalf("earlier creates still scheduling: %v", err)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) { fuzzPost(t, dp.Addr, "/v1/servers", body, settle) })
}
