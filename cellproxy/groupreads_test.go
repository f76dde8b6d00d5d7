package cellproxy

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// fsmStore is a Store over a bare state machine that counts the reads.
type fsmStore struct {
	f     *fsm.FSM
	index uint64
	reads int
}

func (s *fsmStore) Read(_ context.Context, _ node.Consistency, fn func(r *fsm.Reader) error) (node.ReadInfo, error) {
	s.reads++
	return node.ReadInfo{}, s.f.View(fn)
}

func (s *fsmStore) Apply(_ context.Context, c fsm.Command) (*fsm.Result, error) {
	s.index++
	res := s.f.Apply(&raft.Log{Index: s.index, Type: raft.LogCommand, Data: fsm.Encode(c, time.Now())}).(*fsm.Result)
	return res, nil
}

// TestPlacementReadsGroupsOnlyWhenNeeded: recording where a server landed reads no group when
// the create named none, reads the named group directly, and looks the group up (membership
// index) when a reschedule does not know it; the host is recorded in the group in both cases.
func TestPlacementReadsGroupsOnlyWhenNeeded(t *testing.T) {
	const cell = "c1111111-0000-4000-8000-000000000001"
	const grp = "6a000000-0000-4000-8000-000000000001"
	f, err := fsm.Open(fsm.DefaultConfig(filepath.Join(t.TempDir(), "fsm.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st := &fsmStore{f: f}
	p, err := New(DefaultConfig(), st, NewRegistry(time.Hour, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	mustApply := func(c fsm.Command) {
		t.Helper()
		if res, _ := st.Apply(ctx, c); res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	mustApply(&fsm.CreateCell{Cell: fsm.Cell{UUID: cell, Name: "cell1", TransportURL: "http://127.0.0.1:1", DatabaseConnection: "conductor://cell1"}})
	mustApply(&fsm.Txn{Ops: []fsm.Op{{Kind: fsm.OpPut, Table: fsm.TableServerGroups,
		Record: &fsm.ServerGroup{ID: grp, ProjectID: "p", Policy: fsm.PolicyAntiAffinity}}}})
	spec := fsm.ServerSpec{Name: "vm", ProjectID: "p", UserID: "u", Flavor: fsm.Flavor{ID: "1", Name: "f1", VCPUs: 1, RAMMB: 512, DiskGB: 1}}
	accept := func(uuid string, group bool) {
		t.Helper()
		ops := []fsm.Op{
			{Kind: fsm.OpPut, Table: fsm.TableBuildRequests, Record: &fsm.ServerRequest{InstanceUUID: uuid, Spec: spec}},
			{Kind: fsm.OpPut, Table: fsm.TableInstanceMappings, Record: &fsm.InstanceMapping{InstanceUUID: uuid, ProjectID: "p", UserID: "u"}},
		}
		if group {
			ops = append(ops, fsm.Op{Kind: fsm.OpAdjust, Table: fsm.TableServerGroups, Record: &fsm.ServerGroup{ID: grp, ProjectID: "p",
				Policy: fsm.PolicyAntiAffinity, Members: []fsm.GroupMember{{InstanceUUID: uuid}}}})
		}
		mustApply(&fsm.Txn{Ops: ops})
	}
	for _, tc := range []struct {
		name, uuid, host string
		hint             groupHint
		inGroup          bool
		reads            int
	}{
		{"no group", "5e000000-0000-4000-8000-000000000001", "h1", groupHint{known: true}, false, 0},
		{"named group", "5e000000-0000-4000-8000-000000000002", "h2", groupHint{known: true, id: grp}, true, 1},
		{"reschedule", "5e000000-0000-4000-8000-000000000003", "h3", groupHint{}, true, 1},
	} {
		accept(tc.uuid, tc.inGroup)
		st.reads = 0
		if plan, err := p.groupPlan(ctx, tc.uuid, tc.hint); err != nil || (plan.group != nil) != tc.inGroup {
			t.Fatalf("%s: plan %+v (%v)", tc.name, plan.group, err)
		}
		if !p.finishInGroup(ctx, tc.uuid, tc.hint, spec, time.Now(), cell, tc.host) {
			t.Fatalf("%s: placement refused", tc.name)
		}
		if st.reads != 2*tc.reads {
			t.Errorf("%s: %d reads to plan and record the placement, want %d", tc.name, st.reads, 2*tc.reads)
		}
		if err := f.View(func(r *fsm.Reader) error {
			m, err := r.InstanceMapping(tc.uuid)
			if err != nil || m.CellUUID != cell {
				t.Errorf("%s: mapping %+v (%v)", tc.name, m, err)
			}
			g, err := r.GroupOf(tc.uuid)
			if err != nil || (g != nil) != tc.inGroup {
				t.Fatalf("%s: group %+v (%v)", tc.name, g, err)
			}
			if g != nil && !hasMember(g, tc.uuid, tc.host) {
				t.Errorf("%s: the group does not record %s on %s: %+v", tc.name, tc.uuid, tc.host, g.Members)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func hasMember(g *fsm.ServerGroup, uuid, host string) bool {
	for _, m := range g.Members {
		if m.InstanceUUID == uuid && m.Host == host {
			return true
		}
	}
	return false
}
