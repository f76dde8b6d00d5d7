// Package poll waits for a condition by checking it again and again until a deadline: the one
// way cellmap's tests and tools wait for something to happen (never a bare sleep).
package poll

import (
	"context"
	"fmt"
	"time"
)

const (
	// Interval is the pause between two checks.
	Interval = 10 * time.Millisecond
	// CheckTimeout bounds the context of one check.
	CheckTimeout = time.Second
)

// Until calls cond, then again every Interval, until it returns true, timeout passes or ctx
// ends (cond is called at least once). Each call gets a context bounded by CheckTimeout (and
// by what is left of timeout). The error wraps context.DeadlineExceeded when timeout passed,
// else ctx's error.
func Until(ctx context.Context, timeout time.Duration, cond func(context.Context) bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTimer(Interval)
	defer t.Stop()
	for {
		cctx, ccancel := context.WithTimeout(ctx, CheckTimeout)
		ok := cond(cctx)
		ccancel()
		if ok {
			return nil
		}
		t.Reset(Interval)
		select {
		case <-ctx.Done():
			return fmt.Errorf("poll: condition not met within %v: %w", timeout, ctx.Err())
		case <-t.C:
		}
	}
}
