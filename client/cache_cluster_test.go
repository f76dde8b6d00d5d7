package client_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestCacheOnClusterFailover runs a cache on three real cellmapd processes, each reached
// through a gate (a proxy the test can close), and checks that its handlers see every write
// of a scripted sequence exactly once, in order, with the write's revision: in normal
// operation; after the node it watches is killed while every other node is out of its reach
// (the writes happen meanwhile, so it must resume from its revision on another node and get
// them from that node's history, with no relist); and after the leader it watches is killed
// and another node leads (again writing while it reaches no node). Role: the cache runs
// with a reader token; the writes use the admin token.
func TestCacheOnClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	cl := testcluster.StartCluster(t, nil)
	leader := cl.Leader(t)
	order := []*testcluster.ProcNode{leader} // the cache's endpoints: the followers, then the leader
	for _, n := range cl.Nodes {
		if n != leader {
			order = append([]*testcluster.ProcNode{n}, order...)
		}
	}
	gates := map[*testcluster.ProcNode]*gate{}
	var endpoints []string
	for _, n := range order {
		gates[n] = newGate(t, cl.URL(n))
		endpoints = append(endpoints, gates[n].srv.URL)
	}
	cell := cells(t, leader.Client, "a")[0]
	cache, rec, _ := runCache(t, testCacheConfig(roleToken(t, leader.Client, "reader", ""), endpoints...))
	watching := func(n *testcluster.ProcNode) bool { return cache.Endpoint() == gates[n].srv.URL }
	waitSynced(t, cache)
	if rec.len() != 0 {
		t.Fatalf("the empty listing fired %d changes", rec.len())
	}

	var wants []want
	next := 1
	// write puts count new mappings through the leader, then deletes the first of them.
	write := func(count int) {
		t.Helper()
		first := next
		for range count {
			wants = append(wants, want{client.ChangeAdd, api.KindInstanceMappings, instUUID(next), settledCreate(t, cl, instUUID(next), cell)})
			next++
		}
		wants = append(wants, want{client.ChangeDelete, api.KindInstanceMappings, instUUID(first), settledDelete(t, cl, instUUID(first))})
	}
	check := func() {
		t.Helper()
		waitRevision(t, cache, wants[len(wants)-1].revision)
		sameChanges(t, rec.since(0), wants)
	}
	// cutOff closes the gates of nodes (the cache's streams through them end) and returns
	// the function that opens them again.
	cutOff := func(nodes ...*testcluster.ProcNode) func() {
		for _, n := range nodes {
			gates[n].close()
		}
		return func() {
			for _, n := range nodes {
				gates[n].reopen()
			}
		}
	}

	write(5)
	check()
	if !watching(order[0]) {
		t.Fatalf("the cache watches %s, want the first endpoint", cache.Endpoint())
	}

	// The watched node dies while the others are out of reach; writes happen meanwhile.
	reopen := cutOff(order[1], order[2])
	if err := order[0].Proc.Kill(); err != nil {
		t.Fatal(err)
	}
	write(5)
	reconnects := cache.Reconnects()
	testkit.WaitFor(t, "the cache to try the other nodes", 30*time.Second, func() bool { return cache.Reconnects() >= reconnects+3 })
	reopen()
	check()
	if watching(order[0]) || cache.Relists() != 0 {
		t.Fatalf("after the kill: endpoint %s, %d relists; want another node, resumed without a relist", cache.Endpoint(), cache.Relists())
	}

	// The killed node comes back. The cache moves to the leader; the leader dies while the
	// other nodes are out of reach; another leads and takes writes.
	cl.Start(t, order[0])
	testcluster.WaitClientReady(t, order[0].Client, 60*time.Second)
	reopen = cutOff(order[0], order[1])
	testkit.WaitFor(t, "the cache to watch the leader", 30*time.Second, func() bool { return watching(leader) })
	if err := leader.Proc.Kill(); err != nil {
		t.Fatal(err)
	}
	waitNewLeader(t, cl, leader)
	write(5)
	reconnects = cache.Reconnects()
	testkit.WaitFor(t, "the cache to try the other nodes", 30*time.Second, func() bool { return cache.Reconnects() >= reconnects+3 })
	reopen()
	check()
	if watching(leader) || cache.Relists() != 0 {
		t.Fatalf("after the leader change: endpoint %s, %d relists; want another node, no relist", cache.Endpoint(), cache.Relists())
	}
	if m, err := cache.Lookup(instUUID(next - 1)); err != nil || m.InstanceUUID != instUUID(next-1) {
		t.Fatalf("Lookup of the last write: %+v, %v", m, err)
	}
}

// waitNewLeader waits until a live node other than old leads and serves linearizable reads.
func waitNewLeader(t *testing.T, cl *testcluster.Cluster, old *testcluster.ProcNode) {
	t.Helper()
	n := cl.Leader(t) // skips the killed old leader
	if n == old {
		t.Fatal("the killed leader still leads")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := n.Client.Cells(ctx, false); err != nil {
		t.Fatal(err)
	}
}

// settledCreate creates a mapping through the current leader and returns the create's
// revision, also when an attempt's outcome was unknown (a busy machine can cost the new
// leader its leadership while it commits): the create is conditional (If-None-Match), so a
// retry either creates it or finds it created, and then the mapping's own revision is the
// create's.
func settledCreate(t *testing.T, cl *testcluster.Cluster, uuid, cell string) uint64 {
	t.Helper()
	var rev uint64
	testkit.WaitFor(t, "create "+uuid, 60*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		admin := cl.Leader(t).Client
		_, m, err := admin.PutInstanceMapping(ctx, uuid, api.InstanceMappingPut{CellUUID: &cell, ProjectID: "p1"}, client.Condition{IfAbsent: true})
		if err == nil {
			rev = m.Index
			return true
		}
		if !refusedAs(err, api.CodeAlreadyExists, api.CodeRevisionMismatch) {
			return false // unknown outcome or no leader: try again
		}
		got, _, err := admin.InstanceMapping(ctx, uuid) // linearizable
		if err != nil {
			return false
		}
		rev = got.Revision
		return true
	})
	return rev
}

// settledDelete deletes a mapping through the current leader and returns the delete's
// revision. When an attempt's outcome was unknown and the mapping is gone, the delete's
// revision is read from the change stream.
func settledDelete(t *testing.T, cl *testcluster.Cluster, uuid string) uint64 {
	t.Helper()
	var rev uint64
	testkit.WaitFor(t, "delete "+uuid, 60*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		admin := cl.Leader(t).Client
		m, err := admin.DeleteInstanceMapping(ctx, uuid, 0)
		if err == nil {
			rev = m.Index
			return true
		}
		if !refusedAs(err, api.CodeNotFound) {
			return false
		}
		errFound := errors.New("found")
		err = admin.Watch(ctx, client.WatchQuery{Kinds: []string{api.KindInstanceMappings}, SinceGiven: true}, nil, func(ev *api.WatchEvent) error {
			if ev.Type == api.WatchTypeEvent && ev.Key == uuid && ev.Op == api.WatchOpDelete {
				rev = ev.Revision
				return errFound
			}
			return nil
		})
		return errors.Is(err, errFound)
	})
	return rev
}

func refusedAs(err error, codes ...string) bool {
	var e *client.Error
	return errors.As(err, &e) && slices.Contains(codes, e.Code)
}
