package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestCellmapWorkloads runs every workload for a small count against an in-process node.
func TestCellmapWorkloads(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	tg := NewCellmapTarget([]string{n.Addr}, testkit.AdminToken)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, w := range Workloads {
		t.Run(w, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Endpoints, cfg.Workload, cfg.Keys, cfg.Concurrency, cfg.Count, cfg.Duration = []string{n.Addr}, w, 200, 4, 100, 0
			cfg.Preload, cfg.BatchSize = w != WorkloadBulk, 50
			if w == WorkloadBulk {
				cfg.Count = 200 // mappings
			}
			res, err := Run(ctx, cfg, tg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Skipped != "" {
				if w != WorkloadList {
					t.Fatalf("%s skipped: %s", w, res.Skipped)
				}
				t.Logf("list skipped: %s", res.Skipped)
				return
			}
			if res.ErrorCount() != 0 {
				t.Fatalf("errors %v, e.g. %v", res.Errors, res.ErrorSamples)
			}
			want := int64(100)
			if w == WorkloadBulk {
				want = 4 // 200 keys in batches of 50
				if res.Items != 200 {
					t.Fatalf("bulk wrote %d mappings", res.Items)
				}
			}
			if res.Ops+res.Conflicts != want {
				t.Fatalf("ops %d + conflicts %d, want %d", res.Ops, res.Conflicts, want)
			}
			if res.Latency.P50 == 0 {
				t.Fatalf("no latency: %+v", res.Latency)
			}
		})
	}
}

// TestCellmapErrors checks how answers of the server are classified.
func TestCellmapErrors(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	tg := NewCellmapTarget([]string{n.Addr}, testkit.AdminToken)
	ctx := t.Context()
	if err := tg.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tg.Setup(ctx); err != nil {
		t.Fatalf("setup is idempotent: %v", err)
	}
	m := NewMapping(Key(1), 1, 36)
	rev, err := tg.Create(ctx, 0, m)
	if err != nil || rev == 0 {
		t.Fatalf("create: %d %v", rev, err)
	}
	if _, err := tg.Create(ctx, 0, m); !errors.Is(err, ErrConflict) {
		t.Fatalf("second create: %v, want a conflict", err)
	}
	if _, err := tg.CAS(ctx, 0, m, rev+1000); !errors.Is(err, ErrConflict) {
		t.Fatalf("cas on a wrong revision: %v, want a conflict", err)
	}
	rev2, err := tg.CAS(ctx, 0, m, 0)
	if err != nil || rev2 <= rev {
		t.Fatalf("cas reading the revision first: %d %v", rev2, err)
	}
	if got, err := tg.Lookup(ctx, 0, m.Key); err != nil || got != rev2 {
		t.Fatalf("lookup: %d %v, want %d", got, err, rev2)
	}
	if _, err := tg.LookupStale(ctx, 0, Key(2)); Classify(err) != KindNotFound {
		t.Fatalf("missing key: %v", err)
	}
	bad := m
	bad.Key = "not-a-uuid"
	if _, err := tg.Put(ctx, 0, bad); Classify(err) != KindClient {
		t.Fatalf("bad uuid: %v (%s)", err, Classify(err))
	}
	dead := NewCellmapTarget([]string{testkit.FreeAddr(t)}, testkit.AdminToken)
	if _, err := dead.Lookup(ctx, 0, m.Key); Classify(err) != KindTransport {
		t.Fatalf("no server: %v (%s)", err, Classify(err))
	}
	if _, err := dead.Put(ctx, 0, m); Classify(err) != KindTransport {
		t.Fatalf("no server, write: %v (%s)", err, Classify(err))
	}
}

// TestScaleSmall runs the scale scenario with real cellmapd processes, the test raft profile
// and a few thousand mappings.
func TestScaleSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	cfg := DefaultScaleConfig()
	cfg.Cellmapd, cfg.Dir = testcluster.Binary(t, "cellmapd"), t.TempDir()
	cfg.RaftProfile, cfg.TrailingLogs, cfg.SnapshotThreshold = "test", 512, 1024
	cfg.Mappings, cfg.BatchSize, cfg.MaxCatchupWrites, cfg.CatchupConcurrency = 5000, 500, 50_000, 32
	cfg.Timeout = 4 * time.Minute
	cfg.Progress = t.Logf
	rep, err := Scale(t.Context(), cfg)
	if err != nil {
		for _, nd := range []string{"n1", "n2", "n3"} {
			if b, rerr := os.ReadFile(filepath.Join(cfg.Dir, nd+".log")); rerr == nil && len(b) > 4000 {
				t.Logf("%s log tail:\n%s", nd, b[len(b)-4000:])
			}
		}
		t.Fatal(err)
	}
	if rep.Load == nil || rep.Load.Items != 5000 {
		t.Fatalf("load %+v", rep.Load)
	}
	if len(rep.AfterLoad) != 3 || rep.AfterLoad[0].FSMBytes == 0 || rep.AfterLoad[0].RaftBytes == 0 || rep.AfterLoad[0].RSSBytes == 0 {
		t.Fatalf("files %+v", rep.AfterLoad)
	}
	if len(rep.Restarts) != 2 || rep.Restarts[0].ReadSec <= 0 || !rep.Restarts[1].WasLeader {
		t.Fatalf("restarts %+v", rep.Restarts)
	}
	c := rep.Catchup
	if c == nil || c.SnapshotIndex <= c.BehindFrom+512 || c.InstallSec <= 0 || c.Installed == 0 {
		t.Fatalf("catch-up %+v", c)
	}
	if len(rep.Snapshots) == 0 {
		t.Fatal("no snapshot seen in the logs")
	}
	t.Logf("catch-up %+v; snapshots %+v", *c, rep.Snapshots)
}
