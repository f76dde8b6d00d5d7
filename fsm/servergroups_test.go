package fsm

import (
	"errors"
	"testing"
)

// TestGroupAllows: the hard policies' rule for one more member on a host, with deleted
// members not counting; soft policies always allow.
func TestGroupAllows(t *testing.T) {
	members := []GroupMember{{"m1", "h1"}, {"m2", "h2"}, {"m3", ""}, {"gone", "h3"}}
	live := func(u string) bool { return u != "gone" }
	tests := []struct {
		policy string
		max    int64
		host   string
		want   bool
	}{
		{PolicyAntiAffinity, 0, "h1", false},
		{PolicyAntiAffinity, 0, "h3", true}, // its member was deleted
		{PolicyAntiAffinity, 0, "h4", true},
		{PolicyAntiAffinity, 2, "h1", true},
		{PolicyAffinity, 0, "h1", true},
		{PolicyAffinity, 0, "h4", false},
		{PolicySoftAntiAffinity, 0, "h1", true},
		{PolicySoftAffinity, 0, "h4", true},
	}
	for _, tc := range tests {
		g := &ServerGroup{Policy: tc.policy, MaxPerHost: tc.max, Members: members}
		if got := g.Allows("new", tc.host, live); got != tc.want {
			t.Errorf("%s (max %d) on %s: %v, want %v", tc.policy, tc.max, tc.host, got, tc.want)
		}
	}
	if !(&ServerGroup{Policy: PolicyAffinity, Members: []GroupMember{{"m3", ""}}}).Allows("new", "h9", nil) {
		t.Error("affinity with no placed member must allow any host")
	}
}

// TestGroupJoinAndValidate: a create joins an existing group of its project only; the group's
// content is checked before it is proposed.
func TestGroupJoinAndValidate(t *testing.T) {
	f := newTestFSM(t)
	const gid = "9a000000-0000-4000-8000-000000000001"
	f.mustApply(&Txn{Ops: []Op{{Kind: OpPut, Table: TableServerGroups, Record: &ServerGroup{ID: gid, ProjectID: "p1", Policy: PolicyAntiAffinity}}}})
	join := func(project, member string) *Txn {
		return &Txn{Ops: []Op{{Kind: OpAdjust, Table: TableServerGroups, Record: &ServerGroup{ID: gid, ProjectID: project, Policy: PolicyAntiAffinity,
			Members: []GroupMember{{InstanceUUID: member}}}}}}
	}
	f.mustApply(join("p1", inst1))
	f.mustApply(join("p1", inst2))
	if res := f.apply(join("p2", inst3)); !errors.Is(res.Err, ErrNotFound) {
		t.Fatalf("joining another project's group: %v", res.Err)
	}
	f.read(func(r *Reader) error {
		g, err := r.GroupOf(inst2)
		if err != nil || g == nil || len(g.Members) != 2 {
			t.Fatalf("group of inst2: %+v (%v)", g, err)
		}
		return nil
	})
	for _, bad := range []*ServerGroup{{ID: gid, ProjectID: "p1", Policy: "sideways"},
		{ID: gid, ProjectID: "p1", Policy: PolicyAffinity, MaxPerHost: 2}, {ID: gid, Policy: PolicyAffinity}} {
		if err := (&Txn{Ops: []Op{{Kind: OpPut, Table: TableServerGroups, Record: bad}}}).Validate(); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%+v: %v, want invalid", bad, err)
		}
	}
}
