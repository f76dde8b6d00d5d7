package fsm

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func memberUUID(i int) string { return fmt.Sprintf("5e000000-0000-4000-8000-%012d", i) }

const (
	groupA = "6a000000-0000-4000-8000-00000000000a"
	groupB = "6a000000-0000-4000-8000-00000000000b"
)

// groupOfByScan is what GroupOf answered before the index: the first group listing the server.
func groupOfByScan(t *testing.T, r *Reader, uuid string) string {
	gs, err := r.ServerGroups()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		for _, m := range g.Members {
			if m.InstanceUUID == uuid {
				return g.ID
			}
		}
	}
	return ""
}

// checkGroupOf compares GroupOf with a scan of the groups for servers 0..9.
func checkGroupOf(t *testing.T, f *testFSM, step string) {
	t.Helper()
	f.read(func(r *Reader) error {
		for i := 0; i < 10; i++ {
			g, err := r.GroupOf(memberUUID(i))
			got := ""
			if g != nil {
				got = g.ID
			}
			if want := groupOfByScan(t, r, memberUUID(i)); err != nil || got != want {
				t.Errorf("%s: GroupOf(%d) = %q (%v), the groups say %q", step, i, got, err, want)
			}
		}
		return nil
	})
}

func group(id string, members ...int) *ServerGroup {
	g := &ServerGroup{ID: id, ProjectID: "p", Policy: PolicyAntiAffinity}
	for _, m := range members {
		g.Members = append(g.Members, GroupMember{InstanceUUID: memberUUID(m), Host: fmt.Sprintf("h%d", m)})
	}
	return g
}

// TestGroupMembershipIndex: GroupOf (one index lookup) answers what a scan of the groups
// answers after every kind of group write: create, join (OpAdjust), a placement that drops
// members, delete; the index is outside the checksum, and a state file whose index is missing
// or stale (written by a release without it) gets it rebuilt when it is opened.
func TestGroupMembershipIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fsm.db")
	f := openTestFSM(t, path)
	steps := []struct {
		name string
		ops  []Op
	}{
		{"create A with 0-2", []Op{{Kind: OpPut, Table: TableServerGroups, Record: group(groupA, 0, 1, 2)}}},
		{"create B with 5", []Op{{Kind: OpPut, Table: TableServerGroups, Record: group(groupB, 5)}}},
		{"3 joins A", []Op{{Kind: OpAdjust, Table: TableServerGroups, Record: &ServerGroup{ID: groupA, ProjectID: "p", Policy: PolicyAntiAffinity,
			Members: []GroupMember{{InstanceUUID: memberUUID(3)}}}}}},
		{"placement drops 1", []Op{{Kind: OpPut, Table: TableServerGroups, Record: group(groupA, 0, 2, 3)}}},
		{"delete B", []Op{{Kind: OpDelete, Table: TableServerGroups, Key: groupB}}},
	}
	for _, st := range steps {
		before := f.checksum()
		f.mustApply(&Txn{Ops: st.ops})
		checkGroupOf(t, f, st.name)
		f.read(func(r *Reader) error {
			if sum, err := computeChecksum(r.tx); err != nil || fmt.Sprintf("%016x", sum) != f.checksum() || f.checksum() == before {
				t.Errorf("%s: checksum %016x (%v), running %s, before %s", st.name, sum, err, f.checksum(), before)
			}
			return nil
		})
	}
	// A release without the index: the entries of a group written meanwhile are missing, and
	// a stale entry points to a deleted group.
	f.mustApply(&Txn{Ops: []Op{{Kind: OpPut, Table: TableServerGroups, Record: group(groupB, 7, 8)}}})
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		ix := groupMembersIndex(tx)
		for _, k := range []int{7, 8} {
			if err := ix.Delete([]byte(memberUUID(k))); err != nil {
				return err
			}
		}
		return ix.Put([]byte(memberUUID(9)), []byte(groupA))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Verify(path); err != nil {
		t.Fatalf("verify with a stale index: %v", err)
	}
	f = openTestFSM(t, path)
	checkGroupOf(t, f, "reopened")
}
