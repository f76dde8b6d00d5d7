package conductor

import (
	"bytes"
	"encoding/binary"
	"time"

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

// indexVisit sees one index entry; it returns false to stop the scan.
type indexVisit func(uuid []byte, deleted bool) (more bool, err error)

// scanCreated walks the created_at index in order (created_at desc or asc, then uuid asc),
// starting strictly after the key after when it is not nil.
func scanCreated(c *bolt.Cursor, desc bool, after []byte, visit indexVisit) error {
	if desc {
		return scanCreatedDesc(c, after, visit)
	}
	return scanCreatedAsc(c, after, visit)
}

func scanCreatedDesc(c *bolt.Cursor, after []byte, visit indexVisit) error {
	var k, v []byte
	if after == nil {
		k, v = c.First()
	} else if k, v = c.Seek(after); bytes.Equal(k, after) {
		k, v = c.Next()
	}
	for ; k != nil; k, v = c.Next() {
		if more, err := visit(k[createdPrefixLen:], isDeletedFlag(v)); err != nil || !more {
			return err
		}
	}
	return nil
}

func scanCreatedAsc(c *bolt.Cursor, after []byte, visit indexVisit) error {
	var prefix, from []byte
	if after == nil {
		k, _ := c.Last()
		if k == nil {
			return nil
		}
		prefix = bytes.Clone(k[:createdPrefixLen])
		from = prefix
	} else {
		prefix, from = bytes.Clone(after[:createdPrefixLen]), after
	}
	for {
		k, v := c.Seek(from)
		if bytes.Equal(k, from) {
			k, v = c.Next()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if more, err := visit(k[createdPrefixLen:], isDeletedFlag(v)); err != nil || !more {
				return err
			}
		}
		k = lastBefore(c, prefix)
		if k == nil {
			return nil
		}
		prefix = bytes.Clone(k[:createdPrefixLen])
		from = prefix
	}
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
