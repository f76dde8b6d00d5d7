package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/poll"
)

// WaitFor checks cond every poll.Interval until it holds, failing the test with what when
// timeout passes first. Tests wait for conditions this way, never with a bare sleep.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	if err := poll.Until(context.Background(), timeout, func(context.Context) bool { return cond() }); err != nil {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}
