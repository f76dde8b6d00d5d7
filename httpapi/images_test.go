package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

// TestImageCatalogue: operators and admins create and delete images, readers list and show
// them (a reader's create is refused and changes nothing); bad formats are a 400.
func TestImageCatalogue(t *testing.T) {
	n := testcluster.StartDataPlane(t, nil).Node
	tokens := tokensByRole(t, n)
	as := func(r acl.Role) []string { return []string{"Authorization", "Bearer " + tokens[r]} }
	body := `{"id": "cirros", "name": "cirros-0.6", "disk_format": "qcow2", "container_format": "bare", "min_disk": 1}`
	before := checksum(t, n.Addr)
	if a := call(t, n.Addr, "POST", "/v1/images", body, as(acl.RoleReader)...); a.status != http.StatusForbidden || checksum(t, n.Addr) != before {
		t.Fatalf("reader create: %d %s", a.status, a.raw)
	}
	if a := call(t, n.Addr, "POST", "/v1/images", body, as(acl.RoleOperator)...); a.status != http.StatusCreated || a.body["id"] != "cirros" || a.body["revision"] == nil {
		t.Fatalf("operator create: %d %s", a.status, a.raw)
	}
	if a := call(t, n.Addr, "POST", "/v1/images", body, as(acl.RoleAdmin)...); a.status != http.StatusConflict || a.code() != api.CodeAlreadyExists {
		t.Fatalf("duplicate: %d %s", a.status, a.raw)
	}
	bad := `{"name": "x", "disk_format": "floppy", "container_format": "bare"}`
	if a := call(t, n.Addr, "POST", "/v1/images", bad, as(acl.RoleAdmin)...); a.status != http.StatusBadRequest {
		t.Fatalf("bad format: %d %s", a.status, a.raw)
	}
	if a := call(t, n.Addr, "GET", "/v1/images", "", as(acl.RoleReader)...); a.status != 200 || len(a.body["images"].([]any)) != 1 {
		t.Fatalf("list: %d %s", a.status, a.raw)
	}
	if a := call(t, n.Addr, "GET", "/v1/images/cirros", "", as(acl.RoleReader)...); a.status != 200 || a.body["min_disk"] != float64(1) {
		t.Fatalf("show: %d %s", a.status, a.raw)
	}
	if a := call(t, n.Addr, "DELETE", "/v1/images/cirros", "", as(acl.RoleService)...); a.status != http.StatusForbidden {
		t.Fatalf("service delete: %d %s", a.status, a.raw)
	}
	if a := call(t, n.Addr, "DELETE", "/v1/images/cirros", "", as(acl.RoleOperator)...); a.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", a.status, a.raw)
	}
	if a := call(t, n.Addr, "GET", "/v1/images/cirros", "", as(acl.RoleReader)...); a.status != http.StatusNotFound {
		t.Fatalf("show deleted: %d %s", a.status, a.raw)
	}
}
