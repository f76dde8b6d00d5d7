package client

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
)

// syncedCache returns a cache whose live state holds n instance mappings, fresh now.
func syncedCache(t testing.TB, n int) (*Cache, *follower) {
	t.Helper()
	cfg := DefaultCacheConfig()
	cfg.MaxStaleness, cfg.ProbeInterval = time.Hour, time.Minute
	c, err := NewCache(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := newCacheState(cfg.Kinds)
	cell := "cell-1"
	for i := range n {
		u := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		st.put(api.KindInstanceMappings, u, &api.InstanceMapping{InstanceUUID: u, ProjectID: "p", CellUUID: &cell, Revision: 1})
	}
	f := &follower{c: c}
	f.building, f.target = st, 1
	f.complete.Store(1)
	f.finishList()
	return c, f
}

func putLine(t testing.TB, rev uint64, sub uint32, uuid string) *api.WatchEvent {
	rec, err := json.Marshal(api.InstanceMapping{InstanceUUID: uuid, ProjectID: "p", Revision: rev})
	if err != nil {
		t.Fatal(err)
	}
	return &api.WatchEvent{Type: api.WatchTypeEvent, Revision: rev, Sub: sub, Kind: api.KindInstanceMappings, Op: api.WatchOpPut, Key: uuid, Record: rec}
}

// TestFollowerResumesInsideATransaction: a stream cut between two changes of one transaction
// resumes from the revision before it (the transaction's first change comes again and is
// skipped, the second is applied once); a progress line completes a revision so the resume
// starts after it. No role: the follower's bookkeeping only.
func TestFollowerResumesInsideATransaction(t *testing.T) {
	c, f := syncedCache(t, 0)
	var fired []string
	c.OnAdd(func(ch Change) { fired = append(fired, fmt.Sprintf("%s@%d.%d", ch.Key, ch.Revision, ch.Sub)) })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.line(putLine(t, 5, 0, "a")))
	if got := f.complete.Load(); got != 4 {
		t.Fatalf("after half of revision 5, resume since=%d, want 4", got)
	}
	// The stream is cut; the next one (since=4) sends revision 5 whole, then 6.
	must(f.line(putLine(t, 5, 0, "a")))
	must(f.line(putLine(t, 5, 1, "b")))
	must(f.line(putLine(t, 6, 0, "c")))
	must(f.line(&api.WatchEvent{Type: api.WatchTypeProgress, Revision: 9}))
	if got := f.complete.Load(); got != 9 || c.Revision() != 9 {
		t.Fatalf("after progress 9: since=%d, Revision %d, want 9", got, c.Revision())
	}
	// A repeat of anything at or before the last change fires nothing.
	must(f.line(putLine(t, 6, 0, "c")))
	want := "[a@5.0 b@5.1 c@6.0]"
	if got := fmt.Sprint(fired); got != want {
		t.Fatalf("fired %s, want %s", got, want)
	}
}

// BenchmarkCacheLookup measures local lookups in a cache of 100,000 mappings (the issue asks
// for at least 5 M/s on one core: go test -run '^$' -bench BenchmarkCacheLookup -cpu 1 ./client/).
func BenchmarkCacheLookup(b *testing.B) {
	const n = 100000
	c, _ := syncedCache(b, n)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", (i*7919)%n)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.Lookup(keys[i&1023]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mlookups/s")
}
