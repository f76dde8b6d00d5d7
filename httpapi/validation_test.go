package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// serverBody is a POST /v1/servers body with the given name and metadata.
func serverBody(name string, meta map[string]string) string {
	b, _ := json.Marshal(map[string]any{"server": map[string]any{"name": name, "flavor_ref": "1", "image_ref": "img",
		"project_id": "p1", "user_id": "u1", "metadata": meta}})
	return string(b)
}

// TestValidationIsTheSameEverywhere: what the conductor would refuse is refused by the API
// tier with 400 before anything is written (names as Nova: no control characters, at most 255
// characters; metadata: at most 128 items, keys and values at most 255 bytes); invalid UTF-8 is
// refused, never stored as U+FFFD; created_at out of the storable range is refused, not
// stored as another date.
func TestValidationIsTheSameEverywhere(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	dp.AddCell(t, "cell1", cellA, "h1:16:32768:500")
	call(t, dp.Addr, "POST", "/v1/flavors", `{"id":"1","name":"small","vcpus":1,"ram_mb":512,"disk_gb":1}`)
	bigMeta := map[string]string{}
	for i := 0; i < 128; i++ {
		bigMeta[fmt.Sprintf("k%03d", i)] = strings.Repeat("v", 7<<10)
	}
	before := checksum(t, dp.Addr)
	runSteps(t, dp.Addr, []step{
		{name: "control characters in a server name", method: "POST", path: "/v1/servers", body: serverBody("vm\u0001\u0007", nil), status: 400, code: api.CodeInvalid},
		{name: "server name of 256 characters", method: "POST", path: "/v1/servers", body: serverBody(strings.Repeat("é", 256), nil), status: 400, code: api.CodeInvalid},
		{name: "metadata values of 7 KB", method: "POST", path: "/v1/servers", body: serverBody("vm", bigMeta), status: 400, code: api.CodeInvalid},
		{name: "129 metadata items", method: "POST", path: "/v1/servers", body: serverBody("vm", func() map[string]string {
			m := map[string]string{}
			for i := 0; i < 129; i++ {
				m[fmt.Sprint(i)] = "v"
			}
			return m
		}()), status: 400, code: api.CodeInvalid},
		{name: "invalid UTF-8 in a server name", method: "POST", path: "/v1/servers", body: strings.Replace(serverBody("vmX", nil), "X", "\xff", 1), status: 400, code: api.CodeInvalid},
		{name: "invalid UTF-8 in a project", method: "PUT", path: "/v1/instance-mappings/" + inst1, body: "{\"project_id\":\"p\xfe\"}", status: 400, code: api.CodeInvalid},
		{name: "invalid UTF-8 in a cell name", method: "POST", path: "/v1/cells", body: "{\"uuid\":\"" + cellB + "\",\"name\":\"b\xc3\",\"transport_url\":\"rabbit://b/\",\"database_connection\":\"m://b\"}", status: 400, code: api.CodeInvalid},
		{name: "created_at in the year 3000", method: "PUT", path: "/v1/instance-mappings/" + inst1, body: `{"project_id":"p","created_at":"3000-01-01T00:00:00Z"}`, status: 400, code: api.CodeInvalid},
		{name: "created_at at the epoch", method: "PUT", path: "/v1/instance-mappings/" + inst1, body: `{"project_id":"p","created_at":"1970-01-01T00:00:00Z"}`, status: 400, code: api.CodeInvalid},
		{name: "created_at before the epoch", method: "PUT", path: "/v1/instance-mappings/" + inst1, body: `{"project_id":"p","created_at":"1900-01-01T00:00:00Z"}`, status: 400, code: api.CodeInvalid},
		{name: "created_at in a txn", method: "POST", path: "/v1/txn", body: `{"ops":[{"op":"put","table":"instance_mapping","key":"` + inst3 + `","instance_mapping":{"instance_uuid":"` + inst3 + `","project_id":"p","created_at":"3000-01-01T00:00:00Z"}}]}`, status: 400, code: api.CodeInvalid},
	})
	if after := checksum(t, dp.Addr); after != before {
		t.Fatalf("state changed by rejected requests: checksum %s -> %s", before, after)
	}
	a := call(t, dp.Addr, "PUT", "/v1/instance-mappings/"+inst2, `{"project_id":"p","created_at":"2001-02-03T04:05:06Z"}`)
	if a.status != 200 && a.status != 201 || a.body["created_at"] != "2001-02-03T04:05:06Z" {
		t.Fatalf("a valid created_at: %d %s", a.status, a.raw)
	}
}

// TestC1ControlCharactersAreRefused: C1 control characters (U+0080..U+009F; U+009B is a
// terminal's 8-bit CSI) are refused with 400 in names, hosts and cell URLs like C0 ones, and
// nothing is written.
func TestC1ControlCharactersAreRefused(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	dp.AddCell(t, "cell1", cellA, "h1:16:32768:500")
	call(t, dp.Addr, "POST", "/v1/flavors", `{"id":"1","name":"small","vcpus":1,"ram_mb":512,"disk_gb":1}`)
	before := checksum(t, dp.Addr)
	runSteps(t, dp.Addr, []step{
		{name: "CSI in a server name", method: "POST", path: "/v1/servers", body: serverBody("\u009b31mvm", nil), status: 400, code: api.CodeInvalid},
		{name: "NEL in a metadata key", method: "POST", path: "/v1/servers", body: serverBody("vm", map[string]string{"k\u0085": "v"}), status: 400, code: api.CodeInvalid},
		{name: "C1 in a cell name", method: "POST", path: "/v1/cells", body: cellBody(cellB, "b\u0080", "rabbit://b/", "m://b"), status: 400, code: api.CodeInvalid},
		{name: "C1 in a transport URL", method: "POST", path: "/v1/cells", body: cellBody(cellB, "b", "rabbit://b/\u009b", "m://b"), status: 400, code: api.CodeInvalid},
		{name: "C1 in a flavor name", method: "POST", path: "/v1/flavors", body: `{"id":"2","name":"x\u0090","vcpus":1,"ram_mb":1,"disk_gb":0}`, status: 400, code: api.CodeInvalid},
		{name: "C1 in a project", method: "PUT", path: "/v1/instance-mappings/" + inst1, body: `{"project_id":"p\u009f"}`, status: 400, code: api.CodeInvalid},
	})
	if after := checksum(t, dp.Addr); after != before {
		t.Fatalf("state changed by rejected requests: checksum %s -> %s", before, after)
	}
}

// TestFlavorSizesAreBounded: a flavor's vcpus, ram_mb and disk_gb are held to Nova's integer
// columns (at most 2147483647), the bound the conductors hold hosts and build requests to;
// larger ones are refused with 400 and nothing is written.
func TestFlavorSizesAreBounded(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	flavor := func(id string, vcpus, ram, disk int64) string {
		return fmt.Sprintf(`{"id":%q,"name":"f","vcpus":%d,"ram_mb":%d,"disk_gb":%d}`, id, vcpus, ram, disk)
	}
	before := checksum(t, n.Addr)
	runSteps(t, n.Addr, []step{
		{name: "vcpus 2^31", method: "POST", path: "/v1/flavors", body: flavor("a", 1<<31, 1, 0), status: 400, code: api.CodeInvalid},
		{name: "ram_mb 2^62", method: "POST", path: "/v1/flavors", body: flavor("b", 1, 1<<62, 0), status: 400, code: api.CodeInvalid},
		{name: "disk_gb 2^63-1", method: "POST", path: "/v1/flavors", body: flavor("c", 1, 1, 1<<63-1), status: 400, code: api.CodeInvalid},
	})
	if after := checksum(t, n.Addr); after != before {
		t.Fatalf("state changed by rejected requests: checksum %s -> %s", before, after)
	}
	runSteps(t, n.Addr, []step{
		{name: "at the bound", method: "POST", path: "/v1/flavors", body: flavor("2", 1<<31-1, 1<<31-1, 1<<31-1), status: 201},
	})
}

// TestServerNamesCountCharacters: a server name is at most 255 characters as in Nova (a
// VARCHAR(255) of utf8), not 255 bytes: names of 255 "é", "ü" and "世" (510 and 765 bytes) are
// accepted by the API tier, built by their cell, and a listing sorted by name pages through
// them (each page's last name is the next page's position in the cell); 256 characters are
// refused.
func TestServerNamesCountCharacters(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	dp.AddCell(t, "cell1", cellA, "h1:16:32768:500")
	call(t, dp.Addr, "POST", "/v1/flavors", `{"id":"1","name":"small","vcpus":1,"ram_mb":512,"disk_gb":1}`)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	spec := func(name string) api.ServerCreateSpec {
		return api.ServerCreateSpec{Name: name, FlavorRef: "1", ImageRef: "img", ProjectID: "p1", UserID: "u1"}
	}
	var want []string
	for _, r := range []string{"é", "ü", "世"} {
		name := strings.Repeat(r, validate.MaxNameLen)
		s, err := dp.Client.CreateServer(ctx, spec(name))
		if err != nil {
			t.Fatalf("create a server named %d × %q: %v", validate.MaxNameLen, r, err)
		}
		testkit.WaitFor(t, "server "+s.ID+" active", 15*time.Second, func() bool {
			got, err := dp.Client.Server(ctx, s.ID)
			return err == nil && got.Status == api.StatusActive
		})
		want = append(want, name)
	}
	var got []string
	for marker := ""; len(got) <= len(want); {
		l, err := dp.Client.Servers(ctx, api.ServerQuery{ProjectID: "p1", Limit: 1, Marker: marker, SortKeys: []string{"name"}, SortDirs: []string{"asc"}})
		if err != nil {
			t.Fatalf("list after %d servers: %v", len(got), err)
		}
		if len(l.Servers) == 0 {
			break
		}
		got, marker = append(got, l.Servers[0].Name), l.Servers[0].ID
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("listing by name: got %d names, want the %d created in order", len(got), len(want))
	}
	if _, err := dp.Client.CreateServer(ctx, spec(strings.Repeat("世", validate.MaxNameLen+1))); client.CodeOf(err) != api.CodeInvalid {
		t.Fatalf("a name of 256 characters: got %v, want %s", err, api.CodeInvalid)
	}
}
