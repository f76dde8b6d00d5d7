package cellproxy_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// BenchmarkCreateServer creates servers through the data plane and waits until every one is
// placed (accept, schedule, build in the cell, record): one op is one server. The state holds
// 1,000 server groups of 10 members, as a cloud using groups does; "no_group" creates without
// a group hint, "group" into a soft-anti-affinity group.
func BenchmarkCreateServer(b *testing.B) {
	dp := testcluster.StartDataPlane(b, nil)
	dp.AddCell(b, "cell1", cell1, "h1:100000:100000000:1000000,h2:100000:100000000:1000000")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := dp.Client.CreateFlavor(ctx, api.Flavor{ID: "1", Name: "f1", VCPUs: 1, RAMMB: 512, DiskGB: 1}); err != nil {
		b.Fatal(err)
	}
	for batch := 0; batch < 10; batch++ {
		txn := &fsm.Txn{}
		for g := batch * 100; g < (batch+1)*100; g++ {
			grp := &fsm.ServerGroup{ID: fmt.Sprintf("6a000000-0000-4000-8000-%012d", g), ProjectID: "p", Policy: fsm.PolicyAntiAffinity}
			for m := 0; m < 10; m++ {
				grp.Members = append(grp.Members, fsm.GroupMember{InstanceUUID: fmt.Sprintf("5e%06d-0000-4000-8000-%012d", g, m), Host: "h1"})
			}
			txn.Ops = append(txn.Ops, fsm.Op{Kind: fsm.OpPut, Table: fsm.TableServerGroups, Record: grp})
		}
		if _, err := dp.Node.Node.Apply(ctx, txn); err != nil {
			b.Fatal(err)
		}
	}
	soft, err := dp.Client.CreateServerGroup(ctx, api.ServerGroupCreate{Name: "soft", ProjectID: "p", UserID: "u", Policy: fsm.PolicySoftAntiAffinity})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, group string }{{"no_group", ""}, {"group", soft.ID}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := dp.Proxy.CreateServer(ctx, api.ServerCreateSpec{Name: fmt.Sprintf("vm%d", i), FlavorRef: "1", ProjectID: "p",
					UserID: "u", Group: c.group}); err != nil {
					b.Fatal(err)
				}
			}
			testkit.WaitFor(b, "every server placed", 5*time.Minute, func() bool { return dp.Proxy.Scheduling() == 0 })
		})
	}
}
