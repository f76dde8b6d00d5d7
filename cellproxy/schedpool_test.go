package cellproxy_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/internal/poll"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestSchedulerIsABoundedWorkerPool: while every cell is slow to answer, accepted creates wait
// in a bounded queue for a fixed number of scheduling workers instead of each holding a
// goroutine; once the cell answers again every one of them is built.
func TestSchedulerIsABoundedWorkerPool(t *testing.T) {
	const workers, creates = 2, 30 // the cell has room for 32
	dp := testcluster.StartDataPlane(t, &testcluster.DataPlaneOptions{Proxy: func(c *cellproxy.Config) {
		c.MaxScheduling, c.ListTimeout = workers, time.Minute // held capacity queries wait for the release
	}})
	c := dp.Client
	cond := dp.AddCell(t, "cell1", cell1, hosts)
	addFlavor(t, c, "1", 1, 512)
	release := cond.HoldRequests() // the conductor takes requests but answers none until released
	released := false
	defer func() {
		if !released {
			release()
		}
	}()

	runtime.GC()
	before := runtime.NumGoroutine()
	ids := make([]string, 0, creates)
	for i := 0; i < creates; i++ {
		s, err := c.CreateServer(ctxT(t), api.ServerCreateSpec{Name: fmt.Sprintf("vm%d", i), FlavorRef: "1", ProjectID: "p1", UserID: "u1"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	testkit.WaitFor(t, "the workers to hold the conductor", 15*time.Second, func() bool { return cond.HeldRequests() >= workers })
	if grown := runtime.NumGoroutine() - before; grown > creates/2 {
		t.Fatalf("%d creates waiting to be scheduled grew the goroutines by %d; want a bounded pool of %d workers", creates, grown, workers)
	}
	release()
	released = true
	for _, id := range ids {
		var last string
		err := poll.Until(ctxT(t), 20*time.Second, func(context.Context) bool {
			s, err := c.Server(ctxT(t), id)
			if err != nil {
				last = err.Error()
				return false
			}
			last = fmt.Sprintf("%s %+v", s.Status, s.Fault)
			return s.Status == api.StatusActive
		})
		if err != nil {
			t.Fatalf("%s not built after the release: last seen %s", id, last)
		}
	}
}
