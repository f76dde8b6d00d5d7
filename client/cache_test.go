package client_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/node"
)

// TestCacheFollowsWrites: a cache lists what exists (one add per record, marked as a
// listing's), then fires exactly one change per write of a scripted sequence, in order, with
// the write's revision (a transaction's changes under one revision); Lookup, ByProject and
// ByCell answer from it. Role: a reader token may run a cache; without a token Run stops
// with 401.
func TestCacheFollowsWrites(t *testing.T) {
	n := startNode(t, nil)
	admin := n.Client
	reader := roleToken(t, admin, "reader", "")
	cs := cells(t, admin, "a", "b")
	a, b := cs[0], cs[1]
	putMapping(t, admin, instUUID(1), a, "p1")
	putMapping(t, admin, instUUID(2), a, "p2")

	cfg := testCacheConfig(reader, n.Addr)
	cfg.Kinds = []string{api.KindInstanceMappings, api.KindCells}
	cfg.PageSize = 1 // page through the listing with markers
	c, rec, _ := runCache(t, cfg)
	waitSynced(t, c)
	listed := rec.since(0)
	if len(listed) != 4 {
		t.Fatalf("listing fired %d changes, want 4 adds: %+v", len(listed), listed)
	}
	for _, ch := range listed {
		if ch.Type != client.ChangeAdd || !ch.Relist {
			t.Fatalf("listing fired %+v, want adds of a listing", ch)
		}
	}
	if m, err := c.Lookup(instUUID(1)); err != nil || m.ProjectID != "p1" || *m.CellUUID != a {
		t.Fatalf("Lookup: %+v, %v", m, err)
	}
	if _, err := c.Lookup(instUUID(99)); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Lookup of an unknown uuid: %v, want ErrNotFound", err)
	}

	var wants []want
	wants = append(wants, want{client.ChangeAdd, api.KindInstanceMappings, instUUID(3), putMapping(t, admin, instUUID(3), b, "p1")})
	wants = append(wants, want{client.ChangeUpdate, api.KindInstanceMappings, instUUID(1), putMapping(t, admin, instUUID(1), b, "p1")})
	wants = append(wants, want{client.ChangeDelete, api.KindInstanceMappings, instUUID(2), deleteMapping(t, admin, instUUID(2))})
	res, err := admin.Txn(context.Background(), []api.TxnOp{
		{Op: "put", Table: "instance_mapping", Key: instUUID(4), InstanceMapping: &api.InstanceMappingOp{InstanceUUID: instUUID(4), CellUUID: &a, ProjectID: "p2"}},
		{Op: "delete", Table: "instance_mapping", Key: instUUID(3)},
	})
	if err != nil {
		t.Fatal(err)
	}
	wants = append(wants, want{client.ChangeAdd, api.KindInstanceMappings, instUUID(4), res.Revision},
		want{client.ChangeDelete, api.KindInstanceMappings, instUUID(3), res.Revision})
	cell, err := admin.UpdateCell(context.Background(), a, api.CellUpdate{Name: ptr("a2")})
	if err != nil {
		t.Fatal(err)
	}
	wants = append(wants, want{client.ChangeUpdate, api.KindCells, a, cell.Revision})
	waitRevision(t, c, cell.Revision)
	sameChanges(t, rec.since(len(listed)), wants)

	byProject, err := c.ByProject("p1")
	if err != nil || len(byProject) != 1 || byProject[0].InstanceUUID != instUUID(1) {
		t.Fatalf("ByProject(p1): %+v, %v", byProject, err)
	}
	byCell, err := c.ByCell(a)
	if err != nil || len(byCell) != 1 || byCell[0].InstanceUUID != instUUID(4) {
		t.Fatalf("ByCell(a): %+v, %v", byCell, err)
	}
	if got, err := c.Get(api.KindCells, a); err != nil || got.(*api.Cell).Name != "a2" {
		t.Fatalf("Get(cells, a): %+v, %v", got, err)
	}

	// No token: refused, and Run says so instead of retrying forever.
	_, _, done := runCache(t, testCacheConfig("", n.Addr))
	select {
	case err := <-done:
		var e *client.Error
		if !errors.As(err, &e) || e.Status != http.StatusUnauthorized {
			t.Fatalf("Run without a token: %v, want a 401", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run without a token did not stop")
	}
}

func ptr[T any](v T) *T { return &v }

// TestCacheProgressAdvancesRevision: writes the cache does not keep (a host mapping, for a
// cache of instance mappings) fire nothing, but the stream's progress lines carry the cache's
// Revision past them. Role: reader.
func TestCacheProgressAdvancesRevision(t *testing.T) {
	n := startNode(t, nil)
	c, rec, _ := runCache(t, testCacheConfig(roleToken(t, n.Client, "reader", ""), n.Addr))
	waitSynced(t, c)
	cell := cells(t, n.Client, "a")[0]
	h, err := n.Client.PutHost(context.Background(), "compute1", cell, client.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	waitRevision(t, c, h.Revision)
	if got := rec.len(); got != 0 {
		t.Fatalf("the cache fired %d changes for writes it does not keep", got)
	}
}

// TestCacheFilters: a cache of one project holds that project's mappings only, and a cache of
// one cell holds the cell, its hosts and the mappings in it; each fires the changes of what it
// holds only. Role: a reader token, and a reader token scoped to the project (refused another
// project with 403).
func TestCacheFilters(t *testing.T) {
	n := startNode(t, nil)
	admin := n.Client
	cs := cells(t, admin, "a", "b")
	a, b := cs[0], cs[1]
	reader := roleToken(t, admin, "reader", "")
	scoped := roleToken(t, admin, "reader", "p1")

	pcfg := testCacheConfig(scoped, n.Addr)
	pcfg.ProjectID = "p1"
	pc, prec, _ := runCache(t, pcfg)
	ccfg := testCacheConfig(reader, n.Addr)
	ccfg.CellUUID, ccfg.Kinds = a, []string{api.KindInstanceMappings, api.KindHostMappings, api.KindCells}
	cc, crec, _ := runCache(t, ccfg)
	waitSynced(t, pc)
	waitSynced(t, cc)
	if crec.len() != 1 || prec.len() != 0 {
		t.Fatalf("listings: cell cache fired %d (want its cell), project cache %d (want 0)", crec.len(), prec.len())
	}

	r1 := putMapping(t, admin, instUUID(1), a, "p1")
	r2 := putMapping(t, admin, instUUID(2), b, "p1")
	r3 := putMapping(t, admin, instUUID(3), a, "p2")
	putMapping(t, admin, instUUID(4), b, "p2")
	h, err := admin.PutHost(context.Background(), "compute-a", a, client.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutHost(context.Background(), "compute-b", b, client.Condition{}); err != nil {
		t.Fatal(err)
	}
	r5 := deleteMapping(t, admin, instUUID(1))
	waitRevision(t, pc, r5)
	waitRevision(t, cc, r5)
	sameChanges(t, prec.since(0), []want{
		{client.ChangeAdd, api.KindInstanceMappings, instUUID(1), r1},
		{client.ChangeAdd, api.KindInstanceMappings, instUUID(2), r2},
		{client.ChangeDelete, api.KindInstanceMappings, instUUID(1), r5},
	})
	sameChanges(t, crec.since(1), []want{
		{client.ChangeAdd, api.KindInstanceMappings, instUUID(1), r1},
		{client.ChangeAdd, api.KindInstanceMappings, instUUID(3), r3},
		{client.ChangeAdd, api.KindHostMappings, "compute-a", h.Revision},
		{client.ChangeDelete, api.KindInstanceMappings, instUUID(1), r5},
	})
	if got, err := cc.ByCell(a); err != nil || len(got) != 1 || got[0].InstanceUUID != instUUID(3) {
		t.Fatalf("cell cache ByCell(a): %+v, %v", got, err)
	}
	if got, err := pc.ByProject("p1"); err != nil || len(got) != 1 || got[0].InstanceUUID != instUUID(2) {
		t.Fatalf("project cache ByProject(p1): %+v, %v", got, err)
	}

	other := testCacheConfig(scoped, n.Addr)
	other.ProjectID = "p2"
	_, _, done := runCache(t, other)
	select {
	case err := <-done:
		var e *client.Error
		if !errors.As(err, &e) || e.Status != http.StatusForbidden {
			t.Fatalf("a p1 token caching p2: %v, want 403", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a p1 token caching p2 did not stop")
	}
}

// TestCacheRelistAfterCompaction: while the cache cannot reach its node, the node's history
// (5 events) moves past the cache's revision and reads say ErrStale once MaxStaleness has
// passed; when the node is reachable again its stream answers 410 compacted, the cache lists
// again and fires the difference (an add, an update and a delete per changed record, marked
// as a listing's) and is fresh again. Role: reader.
func TestCacheRelistAfterCompaction(t *testing.T) {
	n := startNode(t, &testcluster.Options{NodeConfig: func(c *node.Config) {
		c.EventRetention = fsm.Retention{MaxEvents: 5, MaxAge: time.Hour}
	}})
	admin := n.Client
	cell := cells(t, admin, "a")[0]
	for i := 1; i <= 3; i++ {
		putMapping(t, admin, instUUID(i), cell, "p1")
	}
	g := newGate(t, n.URL)
	cfg := testCacheConfig(roleToken(t, admin, "reader", ""), g.srv.URL)
	cfg.MaxStaleness = time.Second
	c, rec, _ := runCache(t, cfg)
	waitSynced(t, c)
	listed := rec.len()

	g.close()
	deleteMapping(t, admin, instUUID(1))
	putMapping(t, admin, instUUID(2), cell, "p2")
	var last uint64
	for i := 4; i <= 10; i++ {
		last = putMapping(t, admin, instUUID(i), cell, "p1")
	}
	testkit.WaitFor(t, "the cache to say it is stale", 30*time.Second, func() bool {
		m, err := c.Lookup(instUUID(1))
		return errors.Is(err, client.ErrStale) && m != nil // the last known mapping, flagged
	})
	g.reopen()
	waitRevision(t, c, last)
	if c.Relists() != 1 {
		t.Fatalf("Relists = %d, want 1", c.Relists())
	}
	changes := rec.since(listed)
	for _, ch := range changes {
		if !ch.Relist {
			t.Fatalf("change %+v is not marked as a listing's", ch)
		}
	}
	wants := []want{{client.ChangeDelete, api.KindInstanceMappings, instUUID(1), changes[0].Revision},
		{client.ChangeUpdate, api.KindInstanceMappings, instUUID(2), changes[0].Revision}}
	for i := 4; i <= 10; i++ {
		wants = append(wants, want{client.ChangeAdd, api.KindInstanceMappings, instUUID(i), changes[0].Revision})
	}
	for i := range changes {
		changes[i].Relist = false
	}
	sameChanges(t, changes, wants)
	testkit.WaitFor(t, "the cache to be fresh again", 30*time.Second, func() bool {
		m, err := c.Lookup(instUUID(2))
		return err == nil && m.ProjectID == "p2"
	})
}

// TestCacheLeavesASilentNode: when the node the cache watches stops answering without
// closing anything (a paused process: its stream and its probes hang), the cache leaves it
// for the next endpoint once MaxStaleness has passed, resumes there without a relist, fires
// the writes made meanwhile once and is fresh again. Role: reader.
func TestCacheLeavesASilentNode(t *testing.T) {
	n := startNode(t, nil)
	admin := n.Client
	cell := cells(t, admin, "a")[0]
	first, second := newGate(t, n.URL), newGate(t, n.URL)
	cfg := testCacheConfig(roleToken(t, admin, "reader", ""), first.srv.URL, second.srv.URL)
	cfg.MaxStaleness = time.Second
	c, rec, _ := runCache(t, cfg)
	waitSynced(t, c)
	thaw := first.freeze()
	defer thaw()
	wants := []want{{client.ChangeAdd, api.KindInstanceMappings, instUUID(1), putMapping(t, admin, instUUID(1), cell, "p1")}}
	wants = append(wants, want{client.ChangeDelete, api.KindInstanceMappings, instUUID(1), deleteMapping(t, admin, instUUID(1))})
	waitRevision(t, c, wants[1].revision)
	sameChanges(t, rec.since(0), wants)
	if c.Endpoint() != second.srv.URL || c.Relists() != 0 {
		t.Fatalf("endpoint %s (want the second), %d relists (want 0)", c.Endpoint(), c.Relists())
	}
	testkit.WaitFor(t, "the cache to be fresh again", 30*time.Second, func() bool {
		_, err := c.Lookup(instUUID(1))
		return errors.Is(err, client.ErrNotFound)
	})
}

// TestCacheListsAgainWhenItsMarkerIsDeleted: a page of the project's listing whose marker was
// deleted meanwhile is refused (400 marker_not_found); the cache lists again instead of
// giving up, and holds what remains. Role: a reader token scoped to the project.
func TestCacheListsAgainWhenItsMarkerIsDeleted(t *testing.T) {
	n := startNode(t, nil)
	admin := n.Client
	cell := cells(t, admin, "a")[0]
	for i := 1; i <= 3; i++ {
		putMapping(t, admin, instUUID(i), cell, "p1")
	}
	g := newGate(t, n.URL)
	var once sync.Once
	g.before = func(r *http.Request) {
		if marker := r.URL.Query().Get("marker"); marker != "" && r.URL.Path == "/v1/instance-mappings" {
			once.Do(func() {
				if _, err := admin.DeleteInstanceMapping(context.Background(), marker, 0); err != nil {
					t.Errorf("delete the marker %s: %v", marker, err)
				}
			})
		}
	}
	cfg := testCacheConfig(roleToken(t, admin, "reader", "p1"), g.srv.URL)
	cfg.ProjectID, cfg.PageSize = "p1", 1
	c, _, done := runCache(t, cfg)
	waitSynced(t, c)
	select {
	case err := <-done:
		t.Fatalf("Run gave up: %v", err)
	default:
	}
	got, err := c.ByProject("p1")
	if err != nil || len(got) != 2 || got[0].InstanceUUID != instUUID(2) || got[1].InstanceUUID != instUUID(3) {
		t.Fatalf("ByProject(p1) = %v, %v; want the two mappings left", got, err)
	}
}

// TestCacheCellFilterFollowsMoves: a cache of one cell drops a mapping (and a host) moved to
// another cell, and picks up one moved in: a filtered stream cannot say that a record left
// the filter, so the cache filters the cell itself. Role: reader.
func TestCacheCellFilterFollowsMoves(t *testing.T) {
	n := startNode(t, nil)
	admin := n.Client
	cs := cells(t, admin, "a", "b")
	a, b := cs[0], cs[1]
	ccfg := testCacheConfig(roleToken(t, admin, "reader", ""), n.Addr)
	ccfg.CellUUID, ccfg.Kinds = a, []string{api.KindInstanceMappings, api.KindHostMappings}
	cc, crec, _ := runCache(t, ccfg)
	waitSynced(t, cc)

	r1 := putMapping(t, admin, instUUID(1), a, "p1")
	putMapping(t, admin, instUUID(2), b, "p1")
	h, err := admin.PutHost(context.Background(), "compute-1", a, client.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	out := putMapping(t, admin, instUUID(1), b, "p1") // moves out of a
	in := putMapping(t, admin, instUUID(2), a, "p1")  // moves into a
	hostOut, err := admin.PutHost(context.Background(), "compute-1", b, client.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	waitRevision(t, cc, hostOut.Revision)
	sameChanges(t, crec.since(0), []want{
		{client.ChangeAdd, api.KindInstanceMappings, instUUID(1), r1},
		{client.ChangeAdd, api.KindHostMappings, "compute-1", h.Revision},
		{client.ChangeDelete, api.KindInstanceMappings, instUUID(1), out},
		{client.ChangeAdd, api.KindInstanceMappings, instUUID(2), in},
		{client.ChangeDelete, api.KindHostMappings, "compute-1", hostOut.Revision},
	})
	if got, err := cc.ByCell(a); err != nil || len(got) != 1 || got[0].InstanceUUID != instUUID(2) {
		t.Fatalf("ByCell(a) after the moves: %+v, %v", got, err)
	}
	if _, err := cc.Lookup(instUUID(1)); err == nil {
		t.Fatal("the mapping moved to b is still in a's cache")
	}
}
