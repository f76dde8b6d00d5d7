package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
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
		before := appliedOn(t, cl.URL(follower))
		for k := range creates {
			if _, err := tg.Create(ctx, 0, Mapping{Key: Key(i*creates + k), CellUUID: BenchCellUUID, ProjectID: "p", UserID: "u"}); err != nil {
				t.Fatalf("%s: create %d: %v", tc.route, k, err)
			}
		}
		if got := appliedOn(t, cl.URL(follower)) - before; got != tc.forwarded {
			t.Errorf("--route-writes %s: the follower forwarded %v of %d creates, want %v", tc.route, got, creates, tc.forwarded)
		}
	}
}

// appliedOn is a node's count of the writes it proposed or forwarded (/metrics).
func appliedOn(t *testing.T, base string) float64 {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testkit.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: %d %v", resp.StatusCode, err)
	}
	var sum float64
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "cellmap_apply_seconds_count") {
			var v float64
			if _, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v); err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			sum += v
		}
	}
	return sum
}
