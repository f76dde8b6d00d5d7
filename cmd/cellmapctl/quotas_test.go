package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/api"
)

// TestQuotaCommands: quota set (operator; a reader's token gets exit 1 and changes nothing),
// quota show (reader), a create over the limit refused with Nova's message, quota verify
// finding the drift of a mapping deleted behind the data plane's back (exit 2) and --fix
// correcting it (operator).
func TestQuotaCommands(t *testing.T) {
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
	ctlEnv(t, n, asReader, "quota", "set", "p1", "--instances", "2").want(t, exitQuotaFailed, "Refused")
	ctl(t, n, "quota", "set", "--default", "--instances", "5", "--cores", "-1").want(t, exitOK, "instances 5, cores unlimited")
	ctl(t, n, "quota", "set", "p1", "--instances", "2").want(t, exitOK, "instances 2, cores unlimited, ram unlimited")
	ctl(t, n, "quota", "set", "p1", "--default").want(t, exitUsage)
	ctl(t, n, "quota", "set", "p1", "--instances", "-5").want(t, exitQuotaFailed, "Refused")

	create := func(name string) result {
		return ctl(t, n, "server", "create", "--name", name, "--flavor", "m1", "--image", "cirros", "--project", "p1", "--user", "u1", "--wait")
	}
	create("vm1").want(t, exitOK)
	vm2 := fieldsOf(t, create("vm2"))
	over := create("vm3")
	if over.code != exitServerFailed || !strings.Contains(over.stdout, "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances") {
		t.Fatalf("the third create: exit %d\n%s%s", over.code, over.stdout, over.stderr)
	}
	show := ctlEnv(t, n, asReader, "quota", "show", "p1")
	show.want(t, exitOK, "instances", "cores")
	if f := rowsOf(t, show); f["instances"] != [2]string{"2", "2"} {
		t.Fatalf("quota show: %q", show.stdout)
	}

	ctl(t, n, "quota", "verify").want(t, exitOK, "1 projects checked: no drift")
	if _, err := n.Client.Do(ctxT(t), http.MethodDelete, "/v1/instance-mappings/"+vm2["ID"], nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	ctlEnv(t, n, asReader, "quota", "verify").want(t, exitQuotaFailed)
	ctl(t, n, "quota", "verify").want(t, exitQuotaDrift, "Project p1: recorded 2 instances", "counted 1")
	ctl(t, n, "quota", "verify", "--fix").want(t, exitOK, "1 fixed")
	ctl(t, n, "quota", "verify").want(t, exitOK, "no drift")
	create("vm4").want(t, exitOK)
}

// rowsOf reads a Resource/Limit/In use table into resource → (limit, in use).
func rowsOf(t *testing.T, r result) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	for _, row := range tableRows(t, r.stdout) {
		if len(row) == 3 {
			out[row[0]] = [2]string{row[1], row[2]}
		}
	}
	return out
}
