package poll

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	n := 0
	err := Until(context.Background(), time.Minute, func(ctx context.Context) bool {
		if _, ok := ctx.Deadline(); !ok {
			t.Fatal("a check without a deadline")
		}
		n++
		return n == 3
	})
	if err != nil || n != 3 {
		t.Fatalf("got %v after %d checks, want success after 3", err, n)
	}
}

func TestUntilTimesOut(t *testing.T) {
	checks := 0
	err := Until(context.Background(), 50*time.Millisecond, func(context.Context) bool { checks++; return false })
	if !errors.Is(err, context.DeadlineExceeded) || checks == 0 {
		t.Fatalf("got %v after %d checks, want a deadline error after at least one check", err, checks)
	}
}

func TestUntilStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	err := Until(ctx, time.Minute, func(context.Context) bool { cancel(); return false })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
