package fsm

import (
	"fmt"
	"io"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// Export and inspection of the state file: what a backup holds (package backup) and how an
// operator sees it offline. A backup's body is the same bytes a raft snapshot holds
// (snapshot.go), so [FSM.Restore] takes either.

// Size is the size in bytes of the state file as [Reader.WriteTo] writes it.
func (r *Reader) Size() int64 { return r.tx.Size() }

// WriteTo writes a consistent copy of the state file as of this view.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	n, err := r.tx.WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("fsm: export state: %w", err)
	}
	return n, nil
}

// Checksum is the state checksum of this view, formatted as [FSM.Checksum] formats it.
func (r *Reader) Checksum() string {
	v, _ := readChecksum(r.tx)
	return formatChecksum(v)
}

func formatChecksum(v uint64) string { return fmt.Sprintf("%016x", v) }

// Summary describes a state file: the raft index it has applied, its stored checksum and how
// many records of each kind it holds.
type Summary struct {
	AppliedIndex uint64
	Checksum     string
	// Records counts the records per kind: the record names of the tables ("cell",
	// "instance_mapping", ...), every table listed even when empty, and any other bucket
	// that is neither an index nor the meta bucket under its bucket name.
	Records []RecordCount
}

// RecordCount is the number of records of one kind.
type RecordCount struct {
	Kind  string
	Count int
}

// Inspect reads the state file at path without changing it. Run [Verify] first: Inspect
// trusts the file's pages.
func Inspect(path string) (*Summary, error) {
	db, err := openReadOnly(path)
	if err != nil {
		return nil, fmt.Errorf("fsm: inspect %s: %w", path, err)
	}
	defer db.Close()
	var s *Summary
	err = db.View(func(tx *bolt.Tx) error {
		s, err = summarize(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("fsm: inspect %s: %w", path, err)
	}
	return s, nil
}

func summarize(tx *bolt.Tx) (*Summary, error) {
	if tx.Bucket(bucketMeta) == nil {
		return nil, fmt.Errorf("%w: no meta bucket", ErrDamaged)
	}
	sum, _ := readChecksum(tx)
	s := &Summary{AppliedIndex: readApplied(tx), Checksum: formatChecksum(sum)}
	known := map[string]bool{string(bucketMeta): true, string(bucketEvents): true}
	for _, t := range allTables {
		known[string(t.bucket)] = true
		for _, ix := range t.indexes {
			known[string(ix.bucket)] = true
		}
		n := 0
		if b := tx.Bucket(t.bucket); b != nil {
			n = b.Stats().KeyN
		}
		s.Records = append(s.Records, RecordCount{Kind: t.name, Count: n})
	}
	var others []RecordCount
	err := tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		if !known[string(name)] {
			others = append(others, RecordCount{Kind: string(name), Count: b.Stats().KeyN})
		}
		return nil
	})
	sort.Slice(others, func(i, j int) bool { return others[i].Kind < others[j].Kind })
	s.Records = append(s.Records, others...)
	return s, err
}
