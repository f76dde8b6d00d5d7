package etcdbench

import (
	"context"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/bench"
)

// ErrNotReady is returned when etcd does not become ready in time.
var ErrNotReady = bench.ErrNotReady

// WaitCluster waits until every endpoint knows a leader, lists at least members members and
// serves a linearizable Get.
func WaitCluster(ctx context.Context, endpoints []string, members int, timeout time.Duration) error {
	return WaitSecureCluster(ctx, endpoints, members, timeout, nil)
}

// WaitSecureCluster is WaitCluster with the TLS configuration and user of sec.
func WaitSecureCluster(ctx context.Context, endpoints []string, members int, timeout time.Duration, sec *bench.Security) error {
	for _, e := range endpoints {
		if err := bench.CheckLoopback(e); err != nil {
			return err
		}
	}
	t, err := NewConns(endpoints, 1, sec)
	if err != nil {
		return err
	}
	defer t.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for i, e := range endpoints {
		for !ready(ctx, t, i, e, members) {
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w: etcd %s: %v", ErrNotReady, e, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

func ready(ctx context.Context, t *Target, i int, endpoint string, members int) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c := t.clients[i]
	st, err := c.Status(ctx, endpoint)
	if err != nil || st.Leader == 0 {
		return false
	}
	ml, err := c.MemberList(ctx)
	if err != nil || len(ml.Members) < members {
		return false
	}
	_, err = c.Get(ctx, Prefix+"ready")
	return err == nil
}
