package fsm

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The membership index maps a server to the server group it joined (instance uuid → group
// id), so the scheduler finds a server's group with one lookup instead of reading every group.
// It is derived from the server_groups records and kept current in the apply transaction that
// writes them, in a bucket nested in meta: it is not part of the state checksum (every release
// skips meta), so nodes that keep it and nodes of a release without it still agree, and it
// needs no log version. Because a node of an older release applies entries without keeping
// it, it is rebuilt from the groups whenever a state file is opened (start, restore).

var bucketGroupMembers = []byte("group_members")

// errNoMemberIndex: a state file read without having been opened by Open.
var errNoMemberIndex = errors.New("fsm: server group membership index missing")

// groupMembersIndex returns the index bucket (nil when the file was never opened by Open).
func groupMembersIndex(tx *bolt.Tx) *bolt.Bucket {
	if meta := tx.Bucket(bucketMeta); meta != nil {
		return meta.Bucket(bucketGroupMembers)
	}
	return nil
}

// indexMembers moves the index entries of a group write (serverGroupsTable.derived): members
// of prev that g no longer has are removed, g's members point to g. An entry that points to
// another group is left alone.
func indexMembers(tx *bolt.Tx, r, prev Record) error {
	ix := groupMembersIndex(tx)
	if ix == nil {
		return errNoMemberIndex
	}
	keep := map[string]bool{}
	if g, ok := r.(*ServerGroup); ok {
		for _, m := range g.Members {
			keep[m.InstanceUUID] = true
			if err := ix.Put([]byte(m.InstanceUUID), []byte(g.ID)); err != nil {
				return err
			}
		}
	}
	if old, ok := prev.(*ServerGroup); ok {
		for _, m := range old.Members {
			if keep[m.InstanceUUID] || string(ix.Get([]byte(m.InstanceUUID))) != old.ID {
				continue
			}
			if err := ix.Delete([]byte(m.InstanceUUID)); err != nil {
				return err
			}
		}
	}
	return nil
}

// rebuildGroupIndex recreates the membership index from the server groups (at open).
func rebuildGroupIndex(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta.Bucket(bucketGroupMembers) != nil {
		if err := meta.DeleteBucket(bucketGroupMembers); err != nil {
			return fmt.Errorf("drop %s: %w", bucketGroupMembers, err)
		}
	}
	if _, err := meta.CreateBucket(bucketGroupMembers); err != nil {
		return fmt.Errorf("create %s: %w", bucketGroupMembers, err)
	}
	return serverGroupsTable.scan(tx, "", func(r Record) (bool, error) {
		return true, indexMembers(tx, r, nil)
	})
}
