package fsm

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"

	bolt "go.etcd.io/bbolt"
)

// The state checksum is the XOR of a 64-bit hash of every entry (bucket, key, value) of every
// bucket but meta. Apply keeps it current entry by entry and stores it with the applied index,
// so reading it costs nothing; nodes that applied the same entries have equal checksums.

var keyChecksum = []byte("checksum")

// entryHash hashes one entry; equal entries hash equally on every node.
func entryHash(bucket, key, value []byte) uint64 {
	h := fnv.New64a()
	var lb [binary.MaxVarintLen64]byte
	for _, p := range [][]byte{bucket, key, value} {
		n := binary.PutUvarint(lb[:], uint64(len(p)))
		h.Write(lb[:n])
		h.Write(p)
	}
	return h.Sum64()
}

func readChecksum(tx *bolt.Tx) (uint64, bool) {
	v := tx.Bucket(bucketMeta).Get(keyChecksum)
	if len(v) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(v), true
}

func writeChecksum(tx *bolt.Tx, sum uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], sum)
	return tx.Bucket(bucketMeta).Put(keyChecksum, b[:])
}

// computeChecksum scans the whole state (for a file written before the checksum was kept, and
// for tests that check the running value).
func computeChecksum(tx *bolt.Tx) (uint64, error) {
	var sum uint64
	err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		if string(name) == string(bucketMeta) || string(name) == string(bucketEvents) {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			sum ^= entryHash(name, k, v)
			return nil
		})
	})
	return sum, err
}

// Checksum returns the applied index and the checksum of the state at that index.
func (f *FSM) Checksum() (index uint64, sum string, err error) {
	err = f.View(func(r *Reader) error {
		index = r.AppliedIndex()
		v, _ := readChecksum(r.tx)
		sum = fmt.Sprintf("%016x", v)
		return nil
	})
	return index, sum, err
}
