package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The event history. Every write of a watched table (table.kind set) appends an event to the
// events bucket in the same transaction as the write, keyed by the raft index of the entry
// and a sub-index counting the changes of that entry (a txn changes several records):
//
//	key:   index (8 bytes big-endian) | sub (4 bytes big-endian)
//	value: op (1 byte) | entry time (8 bytes, unix ns) | uvarint len | kind | uvarint len | key | record
//
// A delete carries the record as it was, so filters by project or cell see it. The history is
// derived from the commands alone, and pruned after every entry by rules that read only the
// entry (its time) and the history itself, so replicas that applied the same entries hold the
// same history whatever their batching. The checksum does not cover the history: two nodes
// with different retention settings keep different windows of the same history.
var (
	bucketEvents       = []byte("events")
	keyEventsCount     = []byte("events_count")
	keyEventsCompacted = []byte("events_compacted")
)

// EventOp is what happened to a record.
type EventOp byte

// The operations of an event.
const (
	EventPut    EventOp = 1
	EventDelete EventOp = 2
)

func (o EventOp) String() string {
	switch o {
	case EventPut:
		return "put"
	case EventDelete:
		return "delete"
	}
	return fmt.Sprintf("op(%d)", byte(o))
}

// Event is one change of one record.
type Event struct {
	// Revision is the raft index of the entry that made the change; Sub orders the changes
	// of one entry.
	Revision uint64
	Sub      uint32
	// Kind is the table: "cells", "flavors", "host_mappings" or "instance_mappings".
	Kind string
	Op   EventOp
	Key  string
	// Record is the record after a put, or as it was before a delete.
	Record Record
	// Time is the time carried by the entry (the proposing leader's clock).
	Time time.Time
}

// Retention bounds the event history.
type Retention struct {
	// MaxEvents is the most events kept.
	MaxEvents int
	// MaxAge drops events whose entry time is older than this, measured against the time
	// carried by the entry being applied (never the local clock).
	MaxAge time.Duration
}

// DefaultRetention keeps up to 100,000 events of the last hour.
func DefaultRetention() Retention { return Retention{MaxEvents: 100000, MaxAge: time.Hour} }

// Validate checks the retention settings.
func (r Retention) Validate() error {
	if r.MaxEvents < 1 {
		return errors.New("fsm: Retention.MaxEvents must be at least 1")
	}
	if r.MaxAge <= 0 {
		return errors.New("fsm: Retention.MaxAge must be positive")
	}
	return nil
}

// EventKinds lists the kinds that have events, in a stable order.
func EventKinds() []string {
	var out []string
	for _, t := range allTables {
		if t.kind != "" {
			out = append(out, t.kind)
		}
	}
	return out
}

func tableOfKind(kind string) *table {
	for _, t := range allTables {
		if t.kind == kind && kind != "" {
			return t
		}
	}
	return nil
}

func eventKey(index uint64, sub uint32) []byte {
	var k [12]byte
	binary.BigEndian.PutUint64(k[:8], index)
	binary.BigEndian.PutUint32(k[8:], sub)
	return k[:]
}

func encodeEvent(op EventOp, t time.Time, kind, key string, rec []byte) []byte {
	b := make([]byte, 0, 1+8+2+len(kind)+2+len(key)+len(rec))
	b = append(b, byte(op))
	b = binary.BigEndian.AppendUint64(b, uint64(t.UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(kind)))
	b = append(b, kind...)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	return append(b, rec...)
}

func decodeEvent(k, v []byte) (*Event, error) {
	if len(k) != 12 || len(v) < 9 {
		return nil, fmt.Errorf("%w: short event", ErrDamaged)
	}
	ev := &Event{Revision: binary.BigEndian.Uint64(k[:8]), Sub: binary.BigEndian.Uint32(k[8:]), Op: EventOp(v[0])}
	ev.Time = time.Unix(0, int64(binary.BigEndian.Uint64(v[1:9]))).UTC()
	rest := v[9:]
	var parts [2]string
	for i := range parts {
		n, w := binary.Uvarint(rest)
		if w <= 0 || uint64(len(rest)-w) < n {
			return nil, fmt.Errorf("%w: event %d.%d: bad length", ErrDamaged, ev.Revision, ev.Sub)
		}
		parts[i] = string(rest[w : w+int(n)])
		rest = rest[w+int(n):]
	}
	ev.Kind, ev.Key = parts[0], parts[1]
	t := tableOfKind(ev.Kind)
	if t == nil {
		return nil, fmt.Errorf("%w: event %d.%d: unknown kind %q", ErrDamaged, ev.Revision, ev.Sub, ev.Kind)
	}
	ev.Record = t.newRec()
	if err := decodeRecord(rest, ev.Record); err != nil {
		return nil, fmt.Errorf("event %d.%d: %w", ev.Revision, ev.Sub, err)
	}
	return ev, nil
}

// appendEvent records a change of r in table t, when t is watched.
func (ac *applyCtx) appendEvent(t *table, op EventOp, r Record, enc []byte) error {
	if t.kind == "" {
		return nil
	}
	if enc == nil {
		enc = encodeRecord(r)
	}
	ac.noteModified(t.kind)
	if err := ac.collectEvent(op, t.kind, r.Key(), enc); err != nil {
		return err
	}
	k := eventKey(ac.index, ac.sub)
	ac.sub++
	ac.events++
	b := ac.tx.Bucket(bucketEvents)
	b.FillPercent = seqFillPercent
	return b.Put(k, encodeEvent(op, ac.now, t.kind, r.Key(), enc))
}

func readUint64(tx *bolt.Tx, key []byte) uint64 {
	v := tx.Bucket(bucketMeta).Get(key)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func writeUint64(tx *bolt.Tx, key []byte, n uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return tx.Bucket(bucketMeta).Put(key, b[:])
}

// initEvents creates the history of a file that has none. A file that applied entries before
// it kept a history cannot serve them: it is compacted up to its applied index.
func initEvents(tx *bolt.Tx) error {
	if tx.Bucket(bucketEvents) != nil {
		return nil
	}
	if _, err := tx.CreateBucket(bucketEvents); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketEvents, err)
	}
	return writeUint64(tx, keyEventsCompacted, readApplied(tx))
}

// pruneEvents applies the retention after one entry: it adds the entry's events to the count
// and drops the oldest events beyond MaxEvents or older than MaxAge before the entry's time.
// It reads nothing but the history and the entry, so every replica prunes alike.
func pruneEvents(ac *applyCtx, keep Retention) error {
	before := readUint64(ac.tx, keyEventsCount)
	count := before + ac.events
	ac.events = 0
	cutoff := ac.now.Add(-keep.MaxAge).UnixNano()
	var compacted uint64
	c := ac.tx.Bucket(bucketEvents).Cursor()
	for k, v := c.First(); k != nil; k, v = c.First() {
		old := len(v) >= 9 && int64(binary.BigEndian.Uint64(v[1:9])) < cutoff
		if count <= uint64(keep.MaxEvents) && !old {
			break
		}
		compacted = binary.BigEndian.Uint64(k[:8])
		if err := c.Delete(); err != nil {
			return err
		}
		count--
	}
	if compacted != 0 {
		if err := writeUint64(ac.tx, keyEventsCompacted, compacted); err != nil {
			return err
		}
	} else if count == before {
		return nil
	}
	return writeUint64(ac.tx, keyEventsCount, count)
}

// Compacted is the highest revision whose events may be gone (pruned, or applied before this
// file kept a history): a watcher can resume after since only when since >= Compacted().
func (r *Reader) Compacted() uint64 { return readUint64(r.tx, keyEventsCompacted) }

// Events calls fn with every kept event whose revision is above since, in order, until fn
// returns false.
func (r *Reader) Events(since uint64, fn func(*Event) (bool, error)) error {
	b := r.tx.Bucket(bucketEvents)
	if b == nil { // a file written before the history existed, opened read-only
		return nil
	}
	c := b.Cursor()
	for k, v := c.Seek(eventKey(since+1, 0)); k != nil; k, v = c.Next() {
		ev, err := decodeEvent(k, v)
		if err != nil {
			return err
		}
		more, err := fn(ev)
		if err != nil || !more {
			return err
		}
	}
	return nil
}
