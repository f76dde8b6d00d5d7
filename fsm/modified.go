package fsm

import (
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// The modification index of a kind is the raft index of the last entry that changed one of
// its records. Blocking queries wait for it to pass the index the client already has. It is
// stored in the meta bucket with the applied index and mirrored in memory, so a blocked query
// checks it without a read transaction.

func modifiedKey(kind string) []byte { return append([]byte("modified/"), kind...) }

// modifiedIndexes holds the in-memory copy, one counter per kind with events.
type modifiedIndexes map[string]*atomic.Uint64

func newModifiedIndexes() modifiedIndexes {
	m := modifiedIndexes{}
	for _, k := range EventKinds() {
		m[k] = new(atomic.Uint64)
	}
	return m
}

// load copies the stored values of a state file (after open or restore).
func (m modifiedIndexes) load(tx *bolt.Tx) {
	for k, v := range m {
		v.Store(readUint64(tx, modifiedKey(k)))
	}
}

// noteModified records that the entry being applied changed a record of kind.
func (ac *applyCtx) noteModified(kind string) {
	if ac.modified == nil {
		ac.modified = map[string]uint64{}
	}
	ac.modified[kind] = ac.index
}

// writeModified stores the modification indexes a batch moved.
func (ac *applyCtx) writeModified() error {
	for k, idx := range ac.modified {
		if err := writeUint64(ac.tx, modifiedKey(k), idx); err != nil {
			return err
		}
	}
	return nil
}

// Modified is the raft index of the last applied entry that changed a record of kind (one of
// EventKinds), or 0.
func (f *FSM) Modified(kind string) uint64 {
	if v, ok := f.modified[kind]; ok {
		return v.Load()
	}
	return 0
}

// Changed returns a channel closed at the next change of the applied index (or a restore).
// Take it before checking the state, then wait on it: no change is missed.
func (f *FSM) Changed() <-chan struct{} { return *f.notify.Load() }
