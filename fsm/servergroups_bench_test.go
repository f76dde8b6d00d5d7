package fsm

import (
	"fmt"
	"testing"
)

// benchGroups is the state of the group benchmarks: 1,000 anti-affinity groups of one
// project with 10 placed members each.
func benchGroups(b *testing.B) *testFSM {
	f := newTestFSM(b)
	for g := 0; g < 1000; g++ {
		grp := &ServerGroup{ID: fmt.Sprintf("6a000000-0000-4000-8000-%012d", g), ProjectID: "p", Policy: PolicyAntiAffinity}
		for m := 0; m < 10; m++ {
			grp.Members = append(grp.Members, GroupMember{InstanceUUID: fmt.Sprintf("5e%06d-0000-4000-8000-%012d", g, m), Host: fmt.Sprintf("h%d", m)})
		}
		if res := f.apply(&Txn{Ops: []Op{{Kind: OpPut, Table: TableServerGroups, Record: grp}}}); res.Err != nil {
			b.Fatal(res.Err)
		}
	}
	return f
}

// BenchmarkGroupOf looks up the group of a member (the last group's) and of a server in no
// group, among 1,000 groups of 10 members: what the scheduler asks of every server it places
// without knowing its group (a reschedule).
func BenchmarkGroupOf(b *testing.B) {
	f := benchGroups(b)
	for _, c := range []struct{ name, uuid string }{
		{"member", "5e000999-0000-4000-8000-000000000005"},
		{"none", "77777777-0000-4000-8000-000000000000"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				f.read(func(r *Reader) error {
					g, err := r.GroupOf(c.uuid)
					if err != nil || (g == nil) != (c.name == "none") {
						b.Fatalf("GroupOf: %v %v", g, err)
					}
					return nil
				})
			}
		})
	}
}
