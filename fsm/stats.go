package fsm

import bolt "go.etcd.io/bbolt"

// Stats is the size of the state for monitoring.
type Stats struct {
	// FileBytes is the size of the state file; FreePages the pages bbolt can reuse.
	FileBytes int64
	FreePages int
	// Entries counts the records per table: cells, host_mappings, instance_mappings,
	// build_requests, pending_deletes, aggregates, acl_tokens.
	Entries map[string]int
}

// statsTables are the tables Stats counts.
var statsTables = []*table{cellsTable, hostsTable, instancesTable, buildRequestsTable, pendingTable, aggregatesTable, tokensTable}

// Stats reads the state's size. Counting walks every page of the counted buckets, so callers
// that poll it often should cache it.
func (f *FSM) Stats() (Stats, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	st := Stats{Entries: map[string]int{}}
	ds := f.db.Stats()
	st.FreePages = ds.FreePageN + ds.PendingPageN
	err := f.db.View(func(tx *bolt.Tx) error {
		st.FileBytes = tx.Size()
		for _, t := range statsTables {
			st.Entries[t.name] = tx.Bucket(t.bucket).Stats().KeyN
		}
		return nil
	})
	return st, err
}
