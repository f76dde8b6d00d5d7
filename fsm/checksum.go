package fsm

import (
	"encoding/binary"
	"fmt"
	"hash/crc64"

	bolt "go.etcd.io/bbolt"
)

type checksumCache struct {
	index uint64
	sum   string
	valid bool
}

var crcTable = crc64.MakeTable(crc64.ECMA)

// Checksum is a digest of every record and index (not of the applied index). Nodes that applied
// the same entries have equal checksums. It is computed once per applied index.
func (f *FSM) Checksum() (index uint64, sum string, err error) {
	f.sumMu.Lock()
	defer f.sumMu.Unlock()
	err = f.View(func(r *Reader) error {
		index = r.AppliedIndex()
		if f.sum.valid && f.sum.index == index {
			sum = f.sum.sum
			return nil
		}
		s, err := checksumTx(r.tx)
		if err != nil {
			return err
		}
		sum = s
		f.sum = checksumCache{index: index, sum: s, valid: true}
		return nil
	})
	return index, sum, err
}

func checksumTx(tx *bolt.Tx) (string, error) {
	h := crc64.New(crcTable)
	var lb [binary.MaxVarintLen64]byte
	write := func(p []byte) {
		n := binary.PutUvarint(lb[:], uint64(len(p)))
		h.Write(lb[:n])
		h.Write(p)
	}
	err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		if string(name) == string(bucketMeta) {
			return nil
		}
		write(name)
		return b.ForEach(func(k, v []byte) error {
			write(k)
			write(v)
			return nil
		})
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%016x", h.Sum64()), nil
}
