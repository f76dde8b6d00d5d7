package conductor

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	bolt "go.etcd.io/bbolt"
)

// dbFileName is the cell database's file in DataDir.
const dbFileName = "cell.db"

// initialMmapSize pre-sizes bbolt's memory map (address space only) so that long listing read
// transactions do not stall writers that grow the file.
const initialMmapSize = 1 << 30

// Buckets of the cell database.
var (
	// bucketInstances: instance uuid → JSON api.Instance (deleted ones stay, soft deleted).
	bucketInstances = []byte("instances")
	// bucketCreated: createdKey(created_at, uuid) → one flag byte (see index.go).
	bucketCreated = []byte("instances_by_created")
	// bucketProject: projectBase(project_id) + createdKey(created_at, uuid) → the same flag.
	bucketProject = []byte("instances_by_project")
	// bucketHosts: compute host name → JSON api.ComputeHost.
	bucketHosts = []byte("compute_hosts")
	// bucketMeta: counters, big-endian uint64.
	bucketMeta = []byte("meta")
)

// Counter keys in bucketMeta.
var (
	metaLive    = []byte("instances")
	metaDeleted = []byte("deleted_instances")
)

// DB is one cell's database: instances and compute hosts in a bbolt file. It is safe for
// concurrent use; every write is one fsynced bbolt transaction.
type DB struct {
	bolt   *bolt.DB
	logger hclog.Logger
	// now stamps updated_at, deleted_at and default created_at; tests replace it.
	now func() time.Time
}

// OpenDB opens the cell database at path, creating it if needed. logger may be nil.
func OpenDB(path string, logger hclog.Logger) (*DB, error) {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         2 * time.Second, // another process holding the file lock
		InitialMmapSize: initialMmapSize,
		FreelistType:    bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("conductor: open %s: %w", path, err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketInstances, bucketCreated, bucketHosts, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		if tx.Bucket(bucketProject) == nil {
			return buildProjectIndex(tx) // a database made before the project index existed
		}
		return nil
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("conductor: init %s: %w", path, err)
	}
	return &DB{bolt: b, logger: logger, now: func() time.Time { return time.Now().UTC() }}, nil
}

// Close closes the database, waiting for transactions in progress.
func (d *DB) Close() error { return d.bolt.Close() }

// update runs fn in a write transaction unless ctx has ended. bbolt's Batch is never used: it
// may run fn more than once.
func (d *DB) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.bolt.Update(fn)
}

// view runs fn in a read transaction unless ctx has ended.
func (d *DB) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.bolt.View(fn)
}

// getJSON decodes the value at key into v; found is false when the key is absent.
func getJSON(b *bolt.Bucket, key []byte, v any) (found bool, err error) {
	raw := b.Get(key)
	if raw == nil {
		return false, nil
	}
	return true, decodeJSON(key, raw, v)
}

// decodeJSON decodes a stored record.
func decodeJSON(key, raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("conductor: corrupt record %q: %w", key, err)
	}
	return nil
}

// putJSON stores v as JSON at key.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("conductor: encode %q: %w", key, err)
	}
	return b.Put(key, raw)
}

// counter reads a counter of bucketMeta.
func counter(tx *bolt.Tx, key []byte) uint64 {
	v := tx.Bucket(bucketMeta).Get(key)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// addCounter adds delta to a counter of bucketMeta.
func addCounter(tx *bolt.Tx, key []byte, delta int64) error {
	n := int64(counter(tx, key)) + delta
	if n < 0 {
		n = 0
	}
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(n))
	return tx.Bucket(bucketMeta).Put(key, buf[:])
}
