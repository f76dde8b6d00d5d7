package floor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

// The raft floor's state machines: the least a replicated create can cost above the raft log.
const (
	// FSMNoop applies nothing (it counts); its snapshot is the count.
	FSMNoop = "noop"
	// FSMBbolt puts each entry's key and value into one bbolt bucket, one transaction per
	// raft batch committed without fsync, as cellmap's state file is (fsm.ApplyBatch); its
	// snapshot is a copy of the file, as cellmap's is.
	FSMBbolt = "bbolt"
)

var floorBucket = []byte("kv")

// noopFSM counts the entries it is given.
type noopFSM struct{ applied uint64 }

var _ raft.BatchingFSM = (*noopFSM)(nil)

func (f *noopFSM) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

func (f *noopFSM) ApplyBatch(logs []*raft.Log) []any {
	f.applied += uint64(len(logs))
	return make([]any, len(logs))
}

func (f *noopFSM) Snapshot() (raft.FSMSnapshot, error) { return countSnapshot(f.applied), nil }

func (f *noopFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var b [8]byte
	if _, err := io.ReadFull(rc, b[:]); err != nil {
		return fmt.Errorf("floor: restore: %w", err)
	}
	f.applied = binary.BigEndian.Uint64(b[:])
	return nil
}

type countSnapshot uint64

func (s countSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(binary.BigEndian.AppendUint64(nil, uint64(s))); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (countSnapshot) Release() {}

// bboltFSM stores every entry in a bbolt file: key = the entry's first 16 bytes.
type bboltFSM struct {
	path string
	db   *bolt.DB
}

var _ raft.BatchingFSM = (*bboltFSM)(nil)

func openBboltFSM(dir string) (*bboltFSM, error) {
	f := &bboltFSM{path: filepath.Join(dir, "state.db")}
	return f, f.open()
}

func (f *bboltFSM) open() error {
	db, err := bolt.Open(f.path, 0o600, &bolt.Options{Timeout: 2 * time.Second, NoSync: true, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return fmt.Errorf("floor: state: %w", err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists(floorBucket); return err }); err != nil {
		db.Close()
		return fmt.Errorf("floor: state: %w", err)
	}
	f.db = db
	return nil
}

func (f *bboltFSM) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch puts the batch's commands in one transaction; a failed transaction is every
// entry's answer (the benchmark counts it as an error).
func (f *bboltFSM) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	err := f.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(floorBucket)
		for _, l := range logs {
			if l.Type != raft.LogCommand || len(l.Data) < 16 {
				continue
			}
			if err := b.Put(l.Data[:16], l.Data[16:]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for i := range out {
			out[i] = err
		}
	}
	return out
}

func (f *bboltFSM) Snapshot() (raft.FSMSnapshot, error) {
	tx, err := f.db.Begin(false)
	if err != nil {
		return nil, err
	}
	return fileSnapshot{tx}, nil
}

// Restore swaps the file for the snapshot's copy.
func (f *bboltFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	tmp := f.path + ".restore"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, rc)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	if err := f.db.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, f.path); err != nil {
		return err
	}
	return f.open()
}

func (f *bboltFSM) close() error { return f.db.Close() }

type fileSnapshot struct{ tx *bolt.Tx }

func (s fileSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.tx.WriteTo(sink); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s fileSnapshot) Release() { _ = s.tx.Rollback() }
