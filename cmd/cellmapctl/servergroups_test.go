package main

import (
	"testing"

	"github.com/cellmap/cellmap/api"
)

// TestServerGroupCommands: server-group create and delete need service (a reader's token gets
// exit 1), list and show reader; server create --group joins the group, and an
// anti-affinity group of a one-host cell buries its second member in cell0.
func TestServerGroupCommands(t *testing.T) {
	t.Parallel()
	dp := startDataPlane(t)
	n := dp.Node
	dp.addCell("cell1", cellA, "h1:8:16384:100")
	mustFlavor(t, n, "m1", "m1.small")
	reader, err := n.Client.CreateToken(ctxT(t), api.TokenCreate{Role: "reader", Description: "ro"})
	if err != nil {
		t.Fatal(err)
	}
	asReader := map[string]string{"CELLMAP_TOKEN": reader.Secret}
	ctlEnv(t, n, asReader, "server-group", "create", "web", "--project", "p1", "--policy", "anti-affinity").want(t, exitGroupFailed, "Refused")
	ctl(t, n, "server-group", "create", "web", "--project", "p1", "--policy", "sideways").want(t, exitGroupFailed, "policy")
	var g api.ServerGroup
	decodeJSON(t, ctl(t, n, "--format", "json", "server-group", "create", "web", "--project", "p1", "--policy", "anti-affinity"), &g)
	create := func(name string) result {
		return ctl(t, n, "server", "create", "--name", name, "--flavor", "m1", "--image", "cirros", "--project", "p1", "--user", "u1", "--group", g.ID, "--wait")
	}
	create("web1").want(t, exitOK, "ACTIVE")
	second := create("web2")
	if second.code != exitServerFailed || !fieldsHave(fieldsOf(t, second), "Status", "ERROR") {
		t.Fatalf("the second member on a one-host cell: exit %d\n%s", second.code, second.stdout)
	}
	ctlEnv(t, n, asReader, "server-group", "show", g.ID).want(t, exitOK, "anti-affinity")
	ctlEnv(t, n, asReader, "server-group", "list", "--project", "p1").want(t, exitOK, g.ID)
	ctlEnv(t, n, asReader, "server-group", "delete", g.ID).want(t, exitGroupFailed, "Refused")
	ctl(t, n, "server-group", "delete", g.ID).want(t, exitOK, "deleted")
}

func fieldsHave(f map[string]string, k, v string) bool { return f[k] == v }
