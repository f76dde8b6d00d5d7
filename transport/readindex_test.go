package transport

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadIndexProtocol(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var leading atomic.Bool
	var calls atomic.Uint64
	m := NewMux(ln, func() Meta { return Meta{} }, func(ctx context.Context) (uint64, bool, error) {
		if !leading.Load() {
			return 0, true, nil
		}
		return 100 + calls.Add(1), false, nil
	}, nil, nil)
	defer m.Close()
	c := NewReadIndexClient(nil)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.ReadIndex(ctx, m.Addr().String()); !errors.Is(err, ErrRemoteNotLeader) {
		t.Fatalf("follower: got %v, want ErrRemoteNotLeader", err)
	}
	leading.Store(true)
	for want := uint64(101); want <= 103; want++ { // one kept connection serves them all
		if got, err := c.ReadIndex(ctx, m.Addr().String()); err != nil || got != want {
			t.Fatalf("got %d (%v), want %d", got, err, want)
		}
	}
	m.Close()
	if _, err := c.ReadIndex(ctx, m.Addr().String()); err == nil {
		t.Fatalf("closed leader: got nil error, want one")
	}
}
