package conductor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/api"
	bolt "go.etcd.io/bbolt"
)

// The created_at index (bucketCreated) keys every instance by
//
//	8 bytes: ^(created_at in Unix nanoseconds with the sign bit flipped), big-endian
//	36 bytes: the instance uuid (lower-case)
//
// so that bbolt's byte order is created_at desc, uuid asc: Nova's default listing order. The
// ascending order (created_at asc, uuid asc) walks the groups of equal created_at backwards and
// each group forwards. The value is one flag byte, so the deleted filter needs no decoding.
const (
	createdPrefixLen = 8
	createdKeyLen    = createdPrefixLen + 36
)

// Index value flags.
const (
	flagLive    byte = 0
	flagDeleted byte = 1
)

func createdPrefix(t time.Time) []byte {
	var p [createdPrefixLen]byte
	binary.BigEndian.PutUint64(p[:], ^(uint64(t.UnixNano()) ^ (1 << 63)))
	return p[:]
}

func createdKey(t time.Time, uuid string) []byte {
	k := make([]byte, 0, createdKeyLen)
	k = append(k, createdPrefix(t)...)
	return append(k, uuid...)
}

func indexFlag(deleted bool) []byte {
	if deleted {
		return []byte{flagDeleted}
	}
	return []byte{flagLive}
}

// The project index (bucketProject) keys every instance by projectBase(project_id) followed
// by its created_at key, so a project's instances form one contiguous run in the same order;
// a project-scoped listing (the usual Nova call) reads only that project's instances.
func projectBase(project string) []byte {
	b := make([]byte, 0, len(project)+1)
	return append(append(b, project...), 0)
}

// putIndexes writes the index entries of an instance (both indexes carry the deleted flag).
func putIndexes(tx *bolt.Tx, in *api.Instance) error {
	ck, flag := createdKey(in.CreatedAt, in.UUID), indexFlag(in.Deleted)
	if err := tx.Bucket(bucketCreated).Put(ck, flag); err != nil {
		return err
	}
	return tx.Bucket(bucketProject).Put(append(projectBase(in.ProjectID), ck...), flag)
}

// buildProjectIndex creates the project index and fills it from the instances.
func buildProjectIndex(tx *bolt.Tx) error {
	b, err := tx.CreateBucket(bucketProject)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketInstances).ForEach(func(k, v []byte) error {
		var in api.Instance
		if err := json.Unmarshal(v, &in); err != nil {
			return fmt.Errorf("conductor: instance %s: %w", k, err)
		}
		return b.Put(append(projectBase(in.ProjectID), createdKey(in.CreatedAt, in.UUID)...), indexFlag(in.Deleted))
	})
}

// indexVisit sees one index entry; it returns false to stop the scan.
type indexVisit func(uuid []byte, deleted bool) (more bool, err error)

// scanCreated walks the keys of an index that start with base (nil: all) in created_at order
// (desc or asc, then uuid asc), starting strictly after the key after when it is not nil.
func scanCreated(c *bolt.Cursor, base []byte, desc bool, after []byte, visit indexVisit) error {
	if desc {
		return scanCreatedDesc(c, base, after, visit)
	}
	return scanCreatedAsc(c, base, after, visit)
}

func scanCreatedDesc(c *bolt.Cursor, base, after []byte, visit indexVisit) error {
	var k, v []byte
	if after == nil {
		k, v = c.Seek(base)
	} else if k, v = c.Seek(after); bytes.Equal(k, after) {
		k, v = c.Next()
	}
	for ; k != nil && bytes.HasPrefix(k, base); k, v = c.Next() {
		if more, err := visit(k[len(base)+createdPrefixLen:], isDeletedFlag(v)); err != nil || !more {
			return err
		}
	}
	return nil
}

// scanCreatedAsc walks the groups of equal created_at backwards, each group forwards.
func scanCreatedAsc(c *bolt.Cursor, base, after []byte, visit indexVisit) error {
	glen := len(base) + createdPrefixLen
	var group, from []byte
	if after == nil {
		k := lastWithPrefix(c, base)
		if k == nil {
			return nil
		}
		group = bytes.Clone(k[:glen])
		from = group
	} else {
		group, from = bytes.Clone(after[:glen]), after
	}
	for {
		k, v := c.Seek(from)
		if bytes.Equal(k, from) {
			k, v = c.Next()
		}
		for ; k != nil && bytes.HasPrefix(k, group); k, v = c.Next() {
			if more, err := visit(k[glen:], isDeletedFlag(v)); err != nil || !more {
				return err
			}
		}
		k = lastBefore(c, group)
		if k == nil || !bytes.HasPrefix(k, base) {
			return nil
		}
		group = bytes.Clone(k[:glen])
		from = group
	}
}

// lastWithPrefix returns the last key that starts with base (any key when base is empty), or nil.
func lastWithPrefix(c *bolt.Cursor, base []byte) []byte {
	var k []byte
	if len(base) == 0 {
		k, _ = c.Last()
		return k
	}
	// base ends with the 0 separator, so base[:n-1]+1 is the first key above every key of base.
	upper := append(bytes.Clone(base[:len(base)-1]), 1)
	k = lastBefore(c, upper)
	if k == nil || !bytes.HasPrefix(k, base) {
		return nil
	}
	return k
}

// lastBefore returns the last key below prefix, or nil.
func lastBefore(c *bolt.Cursor, prefix []byte) []byte {
	if k, _ := c.Seek(prefix); k == nil {
		k, _ = c.Last()
		return k
	}
	k, _ := c.Prev()
	return k
}

func isDeletedFlag(v []byte) bool { return len(v) > 0 && v[0] == flagDeleted }
