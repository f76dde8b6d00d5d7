package bench

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestH2PoolStreams: a fleet's HTTP/2 pool opens its streams (several at once) three to a
// connection, and every stream finds the probe a cell rename carries. The fleet watches with
// the admin token, as the benchmark does.
func TestH2PoolStreams(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cell, err := createProbeCell(ctx, n.Client)
	if err != nil {
		t.Fatal(err)
	}
	pool := newH2Pool(n.Addr, testkit.AdminToken, "kinds=cells", 3)
	defer pool.close()
	const streams = 7
	opened := make([]FleetStream, streams)
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for i := range streams {
		wg.Go(func() {
			st, err := pool.open(ctx)
			if err != nil {
				errs <- err
				return
			}
			opened[i] = st
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	defer func() {
		for _, st := range opened {
			st.Close()
		}
	}()
	if len(pool.conns) != 3 {
		t.Fatalf("%d streams on %d connections, want 3 (3 to a connection)", streams, len(pool.conns))
	}
	testkit.WaitFor(t, "every stream to follow the hub", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == streams })
	sent := time.Now().UnixNano()
	name := fmt.Sprintf("%s%d", ProbePrefix, sent)
	if _, err := n.Client.UpdateCell(ctx, cell, api.CellUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	for i, st := range opened {
		got, err := st.NextProbe()
		if err != nil || got != sent {
			t.Fatalf("stream %d: probe %d, %v; want %d", i, got, err, sent)
		}
	}
	opened[0].Close()
	testkit.WaitFor(t, "a closed stream to be released", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == streams-1 })
}
