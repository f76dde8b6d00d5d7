package testkit

import (
	"testing"
	"time"
)

// WaitFor polls cond every 10 ms until it holds, failing the test with what when timeout
// passes first. Tests wait for conditions this way, never with a bare sleep.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
