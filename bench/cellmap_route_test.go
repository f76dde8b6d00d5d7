package bench

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestCellmapTargetRouteWrites drives creates through a follower's endpoint of a 3-node
// cluster: with RouteWritesLeader the follower forwards none of them (they go to the leader),
// with RouteWritesAny it forwards every one (its count of writes proposed or forwarded,
// cellmap_apply_seconds_count). Role: admin token (the benchmark's token may be any role
// that writes mappings).
func TestCellmapTargetRouteWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	cl := testcluster.StartCluster(t, nil)
	leader := cl.Leader(t)
	var follower *testcluster.ProcNode
	for _, n := range cl.Nodes {
		if n != leader {
			follower = n
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const creates = 40
	for i, tc := range []struct {
		route     string
		forwarded float64
	}{{RouteWritesLeader, 0}, {RouteWritesAny, creates}} {
		tg, err := NewSecureCellmapTarget([]string{follower.HTTP}, &Security{TokenFile: testkit.AdminTokenFile(t)}, tc.route)
		if err != nil {
			t.Fatal(err)
		}
		if err := tg.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := tg.Lookup(ctx, 0, Key(0)); err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err) // a read first: the client learns the leader from its answer
		}
		before := testkit.MetricSum(t, http.DefaultClient, cl.URL(follower), "cellmap_apply_seconds_count")
		for k := range creates {
			if _, err := tg.Create(ctx, 0, Mapping{Key: Key(i*creates + k), CellUUID: BenchCellUUID, ProjectID: "p", UserID: "u"}); err != nil {
				t.Fatalf("%s: create %d: %v", tc.route, k, err)
			}
		}
		if got := testkit.MetricSum(t, http.DefaultClient, cl.URL(follower), "cellmap_apply_seconds_count") - before; got != tc.forwarded {
			t.Errorf("--route-writes %s: the follower forwarded %v of %d creates, want %v", tc.route, got, creates, tc.forwarded)
		}
	}
}
