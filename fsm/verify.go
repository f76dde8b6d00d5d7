package fsm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrDamaged reports a state file that must not be served: bbolt cannot open it, one of its
// pages cannot be read, or its entries do not hash to the checksum stored with them.
var ErrDamaged = errors.New("fsm: state file damaged")

// Verification reads the whole state file before the node opens it for writing, because bbolt
// trusts its pages: a zeroed or torn page makes it panic when it meets the page (at open, to
// rebuild its free list, or on the first read that reaches it), and a page that still parses
// but holds other bytes is served as data. Verify walks every page reachable from the root in a
// read-only transaction, recovering from bbolt's panics and from memory faults, and compares a
// full-scan checksum with the running checksum stored at the last commit.

// Verify checks the state file at path without changing it and returns the raft index it has
// applied. A missing file is not damage (index 0, nil). A damaged file returns an error
// wrapping [ErrDamaged]; any other error (the file is locked by another process, cannot be
// read) is returned as it is.
func Verify(path string) (uint64, error) {
	v, err := VerifyClean(path)
	return v.AppliedIndex, err
}

// Verified is what [VerifyClean] found in a state file that is not damaged.
type Verified struct {
	// Exists is false when there is no state file (the rest is then zero).
	Exists bool
	// AppliedIndex is the raft index of the last entry applied to the file.
	AppliedIndex uint64
	// Clean: the file was closed cleanly after its last write (fsynced, its clean-shutdown
	// marker names its applied index and checksum; cleanmark.go). A file that is not clean
	// may have lost or torn pages in a machine crash even when it verifies.
	Clean bool
}

// VerifyClean is [Verify], and also reports whether the file was closed cleanly.
func VerifyClean(path string) (Verified, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return Verified{}, nil
	} else if err != nil {
		return Verified{}, fmt.Errorf("fsm: verify: %w", err)
	}
	db, err := openReadOnly(path)
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) || errors.Is(err, fs.ErrPermission) {
			return Verified{}, fmt.Errorf("fsm: verify %s: %w", path, err)
		}
		return Verified{}, fmt.Errorf("%w: %s: %v", ErrDamaged, path, err)
	}
	defer db.Close()
	var applied, sum uint64
	err = db.View(func(tx *bolt.Tx) (err error) {
		applied, sum, err = verifyTx(tx)
		return err
	})
	if err != nil {
		return Verified{}, fmt.Errorf("%w: %s: %v", ErrDamaged, path, err)
	}
	mark, ok, err := readCleanMark(path)
	if err != nil {
		return Verified{}, err
	}
	clean := ok && mark.AppliedIndex == applied && mark.Checksum == fmt.Sprintf("%016x", sum)
	return Verified{Exists: true, AppliedIndex: applied, Clean: clean}, nil
}

// openReadOnly opens path read-only; bbolt's own consistency assertions become errors.
func openReadOnly(path string) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("open: %v", r)
		}
	}()
	return bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
}

// verifyTx reads every entry of every bucket and checks the stored checksum, which it returns
// with the applied index.
func verifyTx(tx *bolt.Tx) (applied, sum uint64, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unreadable page: %v", r)
		}
	}()
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		// A file whose first transaction (creating the buckets) never committed is empty.
		empty := tx.ForEach(func([]byte, *bolt.Bucket) error { return errors.New("buckets without a meta bucket") })
		return 0, 0, empty
	}
	// Touch every page of the meta bucket too; the others are read by the checksum scan.
	if err := meta.ForEach(func(_, _ []byte) error { return nil }); err != nil {
		return 0, 0, err
	}
	if ix := meta.Bucket(bucketGroupMembers); ix != nil { // rebuilt at open, which reads it first
		if err := ix.ForEach(func(_, _ []byte) error { return nil }); err != nil {
			return 0, 0, err
		}
	}
	sum, err = computeChecksum(tx)
	if err != nil {
		return 0, 0, err
	}
	// The checksum does not cover the event history: read and decode every event instead.
	if err := (&Reader{tx: tx}).Events(0, func(*Event) (bool, error) { return true, nil }); err != nil {
		return 0, 0, err
	}
	if stored, ok := readChecksum(tx); ok && stored != sum {
		return 0, 0, fmt.Errorf("entries hash to %016x, the stored checksum is %016x", sum, stored)
	}
	return readApplied(tx), sum, nil
}
