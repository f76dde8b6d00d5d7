package compute_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestQuotaSets: os-quota-sets and limits read the replicated quotas. A project's reader
// shows its own project's quota set (defaults and detail too) and is refused another
// project's; only operators and admins update or revert a quota set (the project's service
// token is refused); a create over the limit is Nova's 403 with its message; the keys follow
// the microversion.
func TestQuotaSets(t *testing.T) {
	cl := startCloud(t)
	cl.createServer(t, cl.p1, "a", "2")

	show := cl.call(t, "GET", "/v2.1/os-quota-sets/p1", cl.p1Reader, "2.1", "")
	want(t, show, http.StatusOK)
	qs := show.object("quota_set")
	if qs["id"] != "p1" || qs["instances"] != float64(-1) || qs["metadata_items"] != float64(128) || qs["floating_ips"] == nil || qs["injected_files"] == nil {
		t.Fatalf("2.1 quota set %v", qs)
	}
	qs57 := cl.call(t, "GET", "/v2.1/os-quota-sets/p1", cl.p1Reader, "2.57", "").object("quota_set")
	for _, gone := range []string{"floating_ips", "security_groups", "injected_files", "injected_file_path_bytes"} {
		if _, ok := qs57[gone]; ok {
			t.Fatalf("2.57 quota set still has %s: %v", gone, qs57)
		}
	}
	detail := cl.call(t, "GET", "/v2.1/os-quota-sets/p1/detail", cl.p1Reader, "2.57", "").object("quota_set")
	if c := detail["cores"].(map[string]any); c["in_use"] != float64(2) || c["limit"] != float64(-1) || c["reserved"] != float64(0) {
		t.Fatalf("detail %v", detail)
	}
	if r := detail["ram"].(map[string]any); r["in_use"] != float64(2048) {
		t.Fatalf("detail %v", detail)
	}
	for _, path := range []string{"/v2.1/os-quota-sets/p2", "/v2.1/os-quota-sets/p2/detail"} {
		wantFault(t, cl.call(t, "GET", path, cl.p1Reader, "2.57", ""), http.StatusForbidden, "forbidden", "os-quota-sets")
	}
	if d := cl.call(t, "GET", "/v2.1/os-quota-sets/p2/defaults", cl.p1Reader, "2.57", "").object("quota_set"); d["id"] != "p2" || d["instances"] != float64(-1) {
		t.Fatalf("defaults %v", d)
	}

	// Updates: operators and admins only.
	set2 := `{"quota_set": {"instances": 2, "cores": "10"}}`
	wantFault(t, cl.call(t, "PUT", "/v2.1/os-quota-sets/p1", cl.p1, "2.57", set2), http.StatusForbidden, "forbidden", "")
	wantFault(t, cl.call(t, "DELETE", "/v2.1/os-quota-sets/p1", cl.p1, "2.57", ""), http.StatusForbidden, "forbidden", "")
	up := cl.call(t, "PUT", "/v2.1/os-quota-sets/p1", cl.operator, "2.57", set2)
	want(t, up, http.StatusOK)
	if u := up.object("quota_set"); u["instances"] != float64(2) || u["cores"] != float64(10) || u["ram"] != float64(-1) || u["id"] != nil {
		t.Fatalf("update answer %v", u)
	}
	for _, bad := range []struct{ body, msg string }{
		{`{"quota_set": {"instances": 0}}`, "Quota limit 0 for instances must be greater than or equal to already used and reserved 1."},
		{`{"quota_set": {"instances": -2}}`, "at least -1"},
		{`{"quota_set": {"key_pairs": 5}}`, "cellmap limits only instances, cores and ram"},
		{`{"quota_set": {"floating_ips": 5}}`, "Additional properties are not allowed ('floating_ips' was unexpected)"},
		{`{"quota_set": {"instances": "many"}}`, "instances must be an integer"},
		{`{"quota_set": {"instances": 1, "force": "yes"}}`, "force must be a boolean"},
		{`{"quota": {}}`, "unknown field"},
	} {
		wantFault(t, cl.call(t, "PUT", "/v2.1/os-quota-sets/p1", cl.admin, "2.57", bad.body), http.StatusBadRequest, "badRequest", bad.msg)
	}
	wantFault(t, cl.call(t, "GET", "/v2.1/os-quota-sets/p1?user_id=u", cl.admin, "2.57", ""), http.StatusBadRequest, "badRequest", "per-user")

	// The second server fits, the third is over the limit: Nova's 403.
	cl.createServer(t, cl.p1, "b", "1")
	over := cl.call(t, "POST", "/v2.1/servers", cl.p1, "2.69", `{"server": {"name": "c", "flavorRef": "1", "networks": "none"}}`)
	wantFault(t, over, http.StatusForbidden, "forbidden", "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances")
	if _, _, msg := over.fault(); strings.Contains(msg, "quota exceeded") {
		t.Fatalf("the message carries the sentinel: %q", msg)
	}
	abs := cl.call(t, "GET", "/v2.1/limits", cl.p1Reader, "2.57", "").object("limits")["absolute"].(map[string]any)
	if abs["maxTotalInstances"] != float64(2) || abs["totalInstancesUsed"] != float64(2) || abs["maxTotalCores"] != float64(10) {
		t.Fatalf("limits %v", abs)
	}
	// force sets a limit below the usage; the revert takes the defaults again.
	want(t, cl.call(t, "PUT", "/v2.1/os-quota-sets/p1", cl.admin, "2.57", `{"quota_set": {"instances": 1, "force": true}}`), http.StatusOK)
	want(t, cl.call(t, "DELETE", "/v2.1/os-quota-sets/p1", cl.operator, "2.57", ""), http.StatusAccepted)
	if q := cl.call(t, "GET", "/v2.1/os-quota-sets/p1", cl.admin, "2.57", "").object("quota_set"); q["instances"] != float64(-1) {
		t.Fatalf("after revert %v", q)
	}
}
