package client_test

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// tcpCounter forwards TCP connections to a node and counts those the client holds open.
type tcpCounter struct {
	ln   net.Listener
	open atomic.Int64
	wg   sync.WaitGroup
}

func newTCPCounter(t *testing.T, target string) *tcpCounter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &tcpCounter{ln: ln}
	var mu sync.Mutex
	var open []net.Conn
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			c.open.Add(1)
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			open = append(open, in, out)
			mu.Unlock()
			for i, p := range [][2]net.Conn{{out, in}, {in, out}} {
				c.wg.Add(1)
				go func() {
					defer c.wg.Done()
					_, _ = io.Copy(p[0], p[1])
					p[0].Close()
					if i == 0 { // the client hung up
						c.open.Add(-1)
					}
				}()
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		c.wg.Wait()
	})
	return c
}

// TestCachesShareOneHTTP2Connection: two caches built on one client with Config.HTTP2 (h2c)
// list, watch and probe over a single connection to the node, and each fires the changes of
// its own project. Role: a reader token may run a cache.
func TestCachesShareOneHTTP2Connection(t *testing.T) {
	n := startNode(t, nil)
	admin := n.Client
	cell := cells(t, admin, "a")[0]
	counter := newTCPCounter(t, n.Addr)
	shared, err := client.NewWithConfig(&client.Config{Addr: counter.ln.Addr().String(), HTTP2: true, Token: roleToken(t, admin, "reader", "")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(shared.Close)
	var caches []*client.Cache
	var recs []*recorder
	for _, p := range []string{"p1", "p2"} {
		cfg := testCacheConfig("", "unused:1")
		cfg.Endpoints, cfg.Clients, cfg.ProjectID = nil, []*client.Client{shared}, p
		c, rec, _ := runCache(t, cfg)
		caches, recs = append(caches, c), append(recs, rec)
	}
	for _, c := range caches {
		waitSynced(t, c)
	}
	r1 := putMapping(t, admin, instUUID(1), cell, "p1")
	r2 := putMapping(t, admin, instUUID(2), cell, "p2")
	for i, c := range caches {
		waitRevision(t, c, max(r1, r2))
		sameChanges(t, recs[i].since(0), []want{{client.ChangeAdd, api.KindInstanceMappings, instUUID(i + 1), []uint64{r1, r2}[i]}})
	}
	// Two first requests at once may each dial; the transport keeps one and closes the other.
	testkit.WaitFor(t, "the caches to hold one connection", 10*time.Second, func() bool { return counter.open.Load() == 1 })
	r3 := putMapping(t, admin, instUUID(3), cell, "p1")
	waitRevision(t, caches[0], r3)
	if got := counter.open.Load(); got != 1 {
		t.Fatalf("the caches hold %d connections, want 1", got)
	}
	if s := n.API.WatchStats(); s.Watchers != 2 {
		t.Fatalf("watch stats %+v, want 2 streams", s)
	}
}
