package compute_test

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"
)

// TestAggregatesZones: os-aggregates is for operators and admins only (a project's service
// token is refused every call); an aggregate's availability_zone makes a zone, which
// os-availability-zone (readers; detail for operators and admins) and os-services show; a
// host is in at most one zone; a create naming a zone lands on its hosts and shows the zone,
// an unknown zone is refused as Nova refuses it.
func TestAggregatesZones(t *testing.T) {
	cl := startCloud(t)
	for _, path := range []string{"/v2.1/os-aggregates", "/v2.1/os-aggregates/1"} {
		wantFault(t, cl.call(t, "GET", path, cl.p1, "2.41", ""), http.StatusForbidden, "forbidden", "")
	}
	wantFault(t, cl.call(t, "POST", "/v2.1/os-aggregates", cl.p1, "2.41", `{"aggregate": {"name": "a"}}`), http.StatusForbidden, "forbidden", "")

	created := cl.call(t, "POST", "/v2.1/os-aggregates", cl.operator, "2.41", `{"aggregate": {"name": "rack1", "availability_zone": "az1"}}`)
	want(t, created, http.StatusOK)
	agg := created.object("aggregate")
	if !reflect.DeepEqual(keys(agg), []string{"availability_zone", "created_at", "deleted", "deleted_at", "id", "name", "updated_at", "uuid"}) ||
		agg["availability_zone"] != "az1" || agg["updated_at"] != nil {
		t.Fatalf("create answer %v", agg)
	}
	id := fmt.Sprint(int64(agg["id"].(float64)))
	uuid := agg["uuid"].(string)
	if a := cl.call(t, "GET", "/v2.1/os-aggregates/"+id, cl.admin, "2.1", "").object("aggregate"); a["uuid"] != nil || a["name"] != "rack1" ||
		len(a["hosts"].([]any)) != 0 || a["metadata"].(map[string]any)["availability_zone"] != "az1" {
		t.Fatalf("2.1 show %v", a)
	}
	wantFault(t, cl.call(t, "POST", "/v2.1/os-aggregates", cl.operator, "2.41", `{"aggregate": {"name": "rack1"}}`), http.StatusConflict, "conflictingRequest", "Aggregate rack1 already exists.")
	wantFault(t, cl.call(t, "POST", "/v2.1/os-aggregates", cl.operator, "2.41", `{"aggregate": {"name": "i", "availability_zone": "internal"}}`), http.StatusBadRequest, "badRequest", "internal")

	action := func(aggID, body string) answer {
		return cl.call(t, "POST", "/v2.1/os-aggregates/"+aggID+"/action", cl.operator, "2.41", body)
	}
	wantFault(t, cl.call(t, "POST", "/v2.1/os-aggregates/"+id+"/action", cl.p1, "2.41", `{"add_host": {"host": "h1"}}`), http.StatusForbidden, "forbidden", "")
	added := action(id, `{"add_host": {"host": "h1"}}`)
	want(t, added, http.StatusOK)
	if h := added.object("aggregate")["hosts"].([]any); len(h) != 1 || h[0] != "h1" {
		t.Fatalf("add_host %v", added.raw)
	}
	wantFault(t, action(id, `{"add_host": {"host": "h1"}}`), http.StatusConflict, "conflictingRequest", "already has host h1")
	wantFault(t, action(uuid, `{"add_host": {"host": "nope"}}`), http.StatusNotFound, "itemNotFound", "Compute host nope could not be found.")
	wantFault(t, action(id, `{"add_host": {"host": "h2"}, "remove_host": {"host": "h1"}}`), http.StatusBadRequest, "badRequest", "exactly one")
	wantFault(t, action("999", `{"add_host": {"host": "h2"}}`), http.StatusNotFound, "itemNotFound", "Aggregate 999 could not be found.")
	md := action(id, `{"set_metadata": {"metadata": {"ssd": "true", "gpu": "no"}}}`)
	want(t, md, http.StatusOK)
	md = action(id, `{"set_metadata": {"metadata": {"gpu": null}}}`)
	if m := md.object("aggregate")["metadata"].(map[string]any); !reflect.DeepEqual(m, map[string]any{"availability_zone": "az1", "ssd": "true"}) {
		t.Fatalf("set_metadata %v", md.raw)
	}

	// A host is in one zone at most.
	other := cl.call(t, "POST", "/v2.1/os-aggregates", cl.admin, "2.41", `{"aggregate": {"name": "rack2", "availability_zone": "az2"}}`)
	otherID := fmt.Sprint(int64(other.object("aggregate")["id"].(float64)))
	wantFault(t, action(otherID, `{"add_host": {"host": "h1"}}`), http.StatusConflict, "conflictingRequest", "Cannot add host to aggregate")
	want(t, action(otherID, `{"set_metadata": {"metadata": {"availability_zone": null}}}`), http.StatusOK)
	want(t, action(otherID, `{"add_host": {"host": "h1"}}`), http.StatusOK)
	wantFault(t, action(otherID, `{"set_metadata": {"metadata": {"availability_zone": "az2"}}}`), http.StatusBadRequest, "badRequest", "Cannot update aggregate "+otherID)
	want(t, action(otherID, `{"remove_host": {"host": "h1"}}`), http.StatusOK)

	// Zones: az1 holds h1, the default zone h2; az2 has no host, so it is not listed.
	zones := cl.call(t, "GET", "/v2.1/os-availability-zone", cl.p1Reader, "2.1", "").list("availabilityZoneInfo")
	var zoneNames []string
	for _, z := range zones {
		zoneNames = append(zoneNames, z["zoneName"].(string))
	}
	if !reflect.DeepEqual(zoneNames, []string{"az1", "nova"}) {
		t.Fatalf("zones %v", zones)
	}
	wantFault(t, cl.call(t, "GET", "/v2.1/os-availability-zone/detail", cl.p1, "2.1", ""), http.StatusForbidden, "forbidden", "")
	detail := byColumn(cl.call(t, "GET", "/v2.1/os-availability-zone/detail", cl.operator, "2.1", "").list("availabilityZoneInfo"), "zoneName")
	if h := detail["az1"]["hosts"].(map[string]any); len(h) != 1 || h["h1"] == nil || detail["internal"] == nil {
		t.Fatalf("zone detail %v", detail)
	}
	services := byColumn(cl.call(t, "GET", "/v2.1/os-services?binary=nova-compute", cl.operator, "2.1", "").list("services"), "host")
	if services["h1"]["zone"] != "az1" || services["h2"]["zone"] != "nova" {
		t.Fatalf("services %v", services)
	}

	// Creates: az1 lands on h1, the default zone on h2; an unknown zone is refused.
	for zone, host := range map[string]string{"az1": "h1", "nova": "h2"} {
		sid := cl.createIn(t, cl.p1, `{"server": {"name": "in-`+zone+`", "flavorRef": "1", "networks": "none", "availability_zone": "`+zone+`"}}`)
		if srv := cl.waitBuilt(t, sid); srv["OS-EXT-SRV-ATTR:host"] != host || srv["OS-EXT-AZ:availability_zone"] != zone {
			t.Fatalf("create in %s: %v", zone, srv)
		}
		if own := cl.call(t, "GET", "/v2.1/servers/"+sid, cl.p1, "2.1", "").object("server"); own["OS-EXT-AZ:availability_zone"] != zone {
			t.Fatalf("the project's view of %s: %v", zone, own)
		}
	}
	wantFault(t, cl.call(t, "POST", "/v2.1/servers", cl.p1, "2.1", `{"server": {"name": "x", "flavorRef": "1", "availability_zone": "az9"}}`),
		http.StatusBadRequest, "badRequest", "The requested availability zone is not available")

	// Update, remove_host, delete.
	up := cl.call(t, "PUT", "/v2.1/os-aggregates/"+otherID, cl.operator, "2.41", `{"aggregate": {"name": "rack2b", "availability_zone": null}}`)
	if a := up.object("aggregate"); a["name"] != "rack2b" || a["availability_zone"] != nil || a["updated_at"] == nil {
		t.Fatalf("update %v", up.raw)
	}
	wantFault(t, cl.call(t, "PUT", "/v2.1/os-aggregates/"+otherID, cl.p1, "2.41", `{"aggregate": {"name": "x"}}`), http.StatusForbidden, "forbidden", "")
	wantFault(t, cl.call(t, "DELETE", "/v2.1/os-aggregates/"+id, cl.operator, "2.41", ""), http.StatusBadRequest, "badRequest", "Host aggregate is not empty")
	want(t, action(id, `{"remove_host": {"host": "h1"}}`), http.StatusOK)
	wantFault(t, action(id, `{"remove_host": {"host": "h1"}}`), http.StatusNotFound, "itemNotFound", "Cannot remove host h1 in aggregate "+id)
	wantFault(t, cl.call(t, "DELETE", "/v2.1/os-aggregates/"+id, cl.p1, "2.41", ""), http.StatusForbidden, "forbidden", "")
	want(t, cl.call(t, "DELETE", "/v2.1/os-aggregates/"+id, cl.operator, "2.41", ""), http.StatusOK)
	wantFault(t, cl.call(t, "GET", "/v2.1/os-aggregates/"+id, cl.operator, "2.41", ""), http.StatusNotFound, "itemNotFound", "")
	if l := cl.call(t, "GET", "/v2.1/os-aggregates", cl.admin, "2.41", "").list("aggregates"); len(l) != 1 || l[0]["name"] != "rack2b" {
		t.Fatalf("list %v", l)
	}
}
