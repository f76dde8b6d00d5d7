package transport

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

func mustMux(t *testing.T, ln net.Listener, rpc map[byte]RPCHandler, cfg *MuxConfig) *Mux {
	t.Helper()
	m, err := NewMux(ln, func() Meta { return Meta{} }, rpc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRPCCallsReuseConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	peers := map[string]bool{}
	m := mustMux(t, ln, map[byte]RPCHandler{
		ProtoApply: func(ctx context.Context, req []byte) []byte { return append([]byte("echo:"), req...) },
	}, DefaultMuxConfig())
	defer m.Close()
	c := NewRPCClient(ProtoApply, 4, nil, nil)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				resp, err := c.Call(ctx, m.Addr().String(), []byte{byte(i), byte(j)})
				if err != nil || string(resp) != "echo:"+string([]byte{byte(i), byte(j)}) {
					t.Errorf("call: got %q, %v", resp, err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	c.mu.Lock()
	for _, rc := range c.idle[m.Addr().String()] {
		peers[rc.c.LocalAddr().String()] = true
	}
	c.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	if len(peers) == 0 || len(peers) > 4 {
		t.Fatalf("got %d idle connections, want 1..4 kept", len(peers))
	}
}

func TestRPCDeadPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := mustMux(t, ln, map[byte]RPCHandler{
		ProtoReadIndex: func(context.Context, []byte) []byte { return []byte{1} },
	}, DefaultMuxConfig())
	addr := m.Addr().String()
	c := NewRPCClient(ProtoReadIndex, 2, nil, nil)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Call(ctx, addr, nil); err != nil {
		t.Fatal(err)
	}
	m.Close() // also closes the kept connection
	if _, err := c.Call(ctx, addr, nil); err == nil {
		t.Fatalf("closed peer: got an answer")
	}
	// The dead connection is gone from the pool: the next call dials, and is refused.
	if _, err := c.Call(ctx, addr, nil); !errors.Is(err, ErrNotSent) {
		t.Fatalf("dead peer: got %v, want ErrNotSent", err)
	}
	f := NewFaults()
	f.SetDropped(addr, true)
	if _, err := NewRPCClient(ProtoReadIndex, 1, f, nil).Call(ctx, addr, nil); !errors.Is(err, ErrNotSent) || !errors.Is(err, ErrFaultDrop) {
		t.Fatalf("dropped peer: got %v, want ErrNotSent and ErrFaultDrop", err)
	}
}
