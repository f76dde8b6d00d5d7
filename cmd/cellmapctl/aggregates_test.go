package main

import (
	"testing"

	"github.com/cellmap/cellmap/api"
)

// TestAggregateCommands: aggregate create/add-host/set/remove-host/delete need operator (a
// reader's token gets exit 1 and changes nothing), list/show and availability-zone list need
// reader; deleting an aggregate that still has hosts is refused.
func TestAggregateCommands(t *testing.T) {
	t.Parallel()
	dp := startDataPlane(t)
	n := dp.Node
	dp.addCell("cell1", cellA, "h1:8:16384:100,h2:8:16384:100")
	reader, err := n.Client.CreateToken(ctxT(t), api.TokenCreate{Role: "reader", Description: "ro"})
	if err != nil {
		t.Fatal(err)
	}
	asReader := map[string]string{"CELLMAP_TOKEN": reader.Secret}
	ctlEnv(t, n, asReader, "aggregate", "create", "rack1", "--zone", "z1").want(t, exitAggregateFailed, "Refused")
	var agg api.Aggregate
	decodeJSON(t, ctl(t, n, "--format", "json", "aggregate", "create", "rack1", "--zone", "z1"), &agg)
	if agg.AvailabilityZone != "z1" || agg.ID == "" {
		t.Fatalf("create: %+v", agg)
	}
	ctl(t, n, "aggregate", "create", "rack1").want(t, exitAggregateFailed, "Refused")
	ctl(t, n, "aggregate", "add-host", agg.ID, "h1").want(t, exitOK, "h1")
	ctl(t, n, "aggregate", "add-host", agg.ID, "nope").want(t, exitAggregateFailed, "not mapped")
	ctl(t, n, "aggregate", "set", agg.ID, "--property", "ssd=true", "--name", "rack-1").want(t, exitOK, "rack-1", "ssd=true")
	ctlEnv(t, n, asReader, "aggregate", "list").want(t, exitOK, agg.ID, "rack-1", "z1", "h1")
	ctlEnv(t, n, asReader, "availability-zone", "list").want(t, exitOK, "nova", "h2", "z1")
	ctl(t, n, "aggregate", "delete", agg.ID).want(t, exitAggregateFailed, "still has 1 hosts")
	ctl(t, n, "aggregate", "remove-host", agg.ID, "h1").want(t, exitOK)
	ctl(t, n, "aggregate", "delete", agg.ID).want(t, exitOK, "deleted")
	ctlEnv(t, n, asReader, "aggregate", "show", agg.ID).want(t, exitAggregateFailed, "Refused")
}
