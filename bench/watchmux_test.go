package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestMuxStreams: a fleet's POST opener puts 7 watches on streams of at most 3 (3, 3, 1),
// the node counts 7 watchers, and a cell rename's probe arrives once per watch: 3, 3 and 1
// times on the three streams. The fleet watches with the admin token, as the benchmark does.
func TestMuxStreams(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cell, err := createProbeCell(ctx, n.Client)
	if err != nil {
		t.Fatal(err)
	}
	// The node notices a client that left at the stream's next progress line: every 100 ms.
	mux, streams, err := newMuxOpener(n.Addr, testkit.AdminToken, "kinds=cells&progress_interval=100ms", 7, 3)
	if err != nil || streams != 3 {
		t.Fatalf("opener: %d streams, %v; want 3", streams, err)
	}
	var opened []FleetStream
	defer func() {
		for _, st := range opened {
			st.Close()
		}
	}()
	for range streams {
		st, err := mux.open(ctx)
		if err != nil {
			t.Fatal(err)
		}
		opened = append(opened, st)
	}
	testkit.WaitFor(t, "every watch to be served", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 7 })
	sent := time.Now().UnixNano()
	name := fmt.Sprintf("%s%d", ProbePrefix, sent)
	if _, err := n.Client.UpdateCell(ctx, cell, api.CellUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{3, 3, 1} {
		if k := opened[i].(*muxStream).Watches(); k != want {
			t.Fatalf("stream %d holds %d watches, want %d", i, k, want)
		}
		for j := range want {
			got, err := opened[i].NextProbe()
			if err != nil || got != sent {
				t.Fatalf("stream %d delivery %d: probe %d, %v; want %d", i, j, got, err, sent)
			}
		}
	}
	opened[0].Close()
	testkit.WaitFor(t, "a closed stream's watches to be released", 10*time.Second, func() bool { return n.API.WatchStats().Watchers == 4 })
}
