package fsm

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Bucket layout. Primary buckets map a key to an encoded record; index buckets map
// "<value>\x00<key>" to nothing, so a prefix scan lists the keys with that value in key order.
// A sequenced index puts an 8-byte big-endian sequence (the creation revision) before the key:
// "<value>\x00<seq><key>", so records are listed in creation order and new ones are appended
// at the end of their value's range instead of at random places (far fewer pages to rewrite).
var (
	bucketMeta = []byte("meta")

	keyAppliedIndex = []byte("applied_index")
)

// seqFillPercent is how full bbolt fills the pages it splits in a sequenced index. Its
// entries arrive in order at the end of their value's range, so a split page is rarely written
// again: filling it to 90 % instead of bbolt's 50 % keeps these indexes about half as large.
const seqFillPercent = 0.9

// index is a secondary index of a table.
type index struct {
	bucket []byte
	value  func(Record) string
	// seq, when set, orders the entries of one value by it (see the layout above).
	seq func(Record) uint64
}

// entryKey is the index entry of r for value.
func (ix *index) entryKey(value string, r Record) []byte {
	if ix.seq == nil {
		return indexKey(value, r.Key())
	}
	b := make([]byte, 0, len(value)+9+len(r.Key()))
	b = append(append(b, value...), 0)
	b = binary.BigEndian.AppendUint64(b, ix.seq(r))
	return append(b, r.Key()...)
}

// recordKey extracts the record key from an index entry of value.
func (ix *index) recordKey(value string, entry []byte) string {
	n := len(value) + 1
	if ix.seq != nil {
		n += 8
	}
	return string(entry[n:])
}

// table describes where the records of one kind live.
type table struct {
	name string
	// kind names the table in the event history; tables without one have no events.
	kind    string
	bucket  []byte
	newRec  func() Record
	indexes []index
	// derived, when set, keeps a derived structure outside the checksummed buckets current
	// in the same transaction: called with the new record (nil on delete) and the previous one
	// (nil when new).
	derived func(tx *bolt.Tx, r, prev Record) error
}

func mappingSeq(r Record) uint64 { return r.(*InstanceMapping).CreatedRevision }

var (
	cellsTable = &table{
		name: "cell", kind: "cells", bucket: []byte("cells"), newRec: func() Record { return &Cell{} },
		indexes: []index{{bucket: []byte("cells_by_name"), value: func(r Record) string { return r.(*Cell).Name }}},
	}
	flavorsTable = &table{name: "flavor", kind: "flavors", bucket: []byte("flavors"), newRec: func() Record { return &Flavor{} }}
	hostsTable   = &table{
		name: "host_mapping", kind: "host_mappings", bucket: []byte("host_mappings"), newRec: func() Record { return &HostMapping{} },
		indexes: []index{{bucket: []byte("host_mappings_by_cell"), value: func(r Record) string { return r.(*HostMapping).CellUUID }}},
	}
	instancesTable = &table{
		name: "instance_mapping", kind: "instance_mappings", bucket: []byte("instance_mappings"), newRec: func() Record { return &InstanceMapping{} },
		indexes: []index{
			{[]byte("instance_mappings_by_project"), func(r Record) string { return r.(*InstanceMapping).ProjectID }, mappingSeq},
			{[]byte("instance_mappings_by_cell"), func(r Record) string { return r.(*InstanceMapping).CellUUID }, mappingSeq},
		},
	}
	buildRequestsTable = &table{name: "build_request", bucket: []byte("build_requests"), newRec: func() Record { return &ServerRequest{} }}
	requestSpecsTable  = &table{name: "request_spec", bucket: []byte("request_specs"), newRec: func() Record { return &ServerRequest{} }}
	cell0Table         = &table{name: "cell0_instance", bucket: []byte("cell0_instances"), newRec: func() Record { return &Cell0Instance{} }}
	markersTable       = &table{name: "map_marker", bucket: []byte("map_markers"), newRec: func() Record { return &MapMarker{} }}
	pendingTable       = &table{name: "pending_delete", bucket: []byte("pending_deletes"), newRec: func() Record { return &PendingDelete{} }}

	allTables = []*table{cellsTable, flavorsTable, hostsTable, instancesTable, buildRequestsTable,
		requestSpecsTable, cell0Table, markersTable, pendingTable, tokensTable, aclMarkersTable, quotaUsageTable, quotaLimitTable, aggregatesTable, serverGroupsTable, imagesTable,
		usersTable}
)

// tableOf returns the storage of a transaction table.
func tableOf(t Table) *table {
	switch t {
	case TableInstanceMappings:
		return instancesTable
	case TableHostMappings:
		return hostsTable
	case TableBuildRequests:
		return buildRequestsTable
	case TableRequestSpecs:
		return requestSpecsTable
	case TableCell0Instances:
		return cell0Table
	case TableMapMarkers:
		return markersTable
	case TablePendingDeletes:
		return pendingTable
	case TableQuotaUsages:
		return quotaUsageTable
	case TableQuotaLimits:
		return quotaLimitTable
	case TableAggregates:
		return aggregatesTable
	case TableServerGroups:
		return serverGroupsTable
	}
	return nil
}

// createBuckets makes every bucket of the layout (idempotent).
func createBuckets(tx *bolt.Tx) error {
	names := [][]byte{bucketMeta}
	for _, t := range allTables {
		names = append(names, t.bucket)
		for _, ix := range t.indexes {
			names = append(names, ix.bucket)
		}
	}
	for _, n := range names {
		if _, err := tx.CreateBucketIfNotExists(n); err != nil {
			return fmt.Errorf("create bucket %s: %w", n, err)
		}
	}
	return nil
}

func indexKey(value, key string) []byte {
	b := make([]byte, 0, len(value)+1+len(key))
	b = append(b, value...)
	b = append(b, 0)
	return append(b, key...)
}

// get loads the record at key, or returns nil when there is none.
func (t *table) get(tx *bolt.Tx, key string) (Record, error) {
	v := tx.Bucket(t.bucket).Get([]byte(key))
	if v == nil {
		return nil, nil
	}
	r := t.newRec()
	if err := decodeRecord(v, r); err != nil {
		return nil, fmt.Errorf("%s %q: %w", t.name, key, err)
	}
	return r, nil
}

// put writes r, replacing prev (nil when new) and moving its index entries, and keeps the
// state checksum current. An index entry whose value did not change is left alone.
func (t *table) put(ac *applyCtx, r, prev Record) error {
	tx := ac.tx
	for i := range t.indexes {
		ix := &t.indexes[i]
		b := tx.Bucket(ix.bucket)
		if ix.seq != nil {
			b.FillPercent = seqFillPercent
		}
		nv := ix.value(r)
		if prev != nil {
			ov := ix.value(prev)
			if ov == nv {
				continue
			}
			k := ix.entryKey(ov, prev)
			ac.sum ^= entryHash(ix.bucket, k, nil)
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		k := ix.entryKey(nv, r)
		ac.sum ^= entryHash(ix.bucket, k, nil)
		if err := b.Put(k, nil); err != nil {
			return err
		}
	}
	if t.derived != nil {
		if err := t.derived(tx, r, prev); err != nil {
			return err
		}
	}
	b := tx.Bucket(t.bucket)
	key := []byte(r.Key())
	if old := b.Get(key); old != nil {
		ac.sum ^= entryHash(t.bucket, key, old)
	}
	v := encodeRecord(r)
	ac.sum ^= entryHash(t.bucket, key, v)
	if err := b.Put(key, v); err != nil {
		return err
	}
	return ac.appendEvent(t, EventPut, r, v)
}

// del removes prev and its index entries, and keeps the state checksum current.
func (t *table) del(ac *applyCtx, prev Record) error {
	for i := range t.indexes {
		ix := &t.indexes[i]
		k := ix.entryKey(ix.value(prev), prev)
		ac.sum ^= entryHash(ix.bucket, k, nil)
		if err := ac.tx.Bucket(ix.bucket).Delete(k); err != nil {
			return err
		}
	}
	if t.derived != nil {
		if err := t.derived(ac.tx, nil, prev); err != nil {
			return err
		}
	}
	b := ac.tx.Bucket(t.bucket)
	key := []byte(prev.Key())
	if old := b.Get(key); old != nil {
		ac.sum ^= entryHash(t.bucket, key, old)
	}
	if err := b.Delete(key); err != nil {
		return err
	}
	return ac.appendEvent(t, EventDelete, prev, nil)
}

// scanIndex calls fn with the key of every record whose indexed value is value, in index
// order, starting after the entry after (all entries when after is nil). fn returns false to
// stop.
func scanIndex(tx *bolt.Tx, ix *index, value string, after []byte, fn func(key string) (bool, error)) error {
	prefix := indexKey(value, "")
	c := tx.Bucket(ix.bucket).Cursor()
	start := prefix
	if after != nil {
		start = after
	}
	for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if after != nil && bytes.Equal(k, after) {
			continue
		}
		more, err := fn(ix.recordKey(value, k))
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// scan calls fn with every record of the table in key order after the key after.
func (t *table) scan(tx *bolt.Tx, after string, fn func(Record) (bool, error)) error {
	c := tx.Bucket(t.bucket).Cursor()
	var k, v []byte
	if after == "" {
		k, v = c.First()
	} else {
		k, v = c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
	}
	for ; k != nil; k, v = c.Next() {
		r := t.newRec()
		if err := decodeRecord(v, r); err != nil {
			return fmt.Errorf("%s %q: %w", t.name, k, err)
		}
		more, err := fn(r)
		if err != nil || !more {
			return err
		}
	}
	return nil
}
