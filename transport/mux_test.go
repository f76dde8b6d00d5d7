package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func newTestMux(t *testing.T, meta Meta, faults *Faults) *Mux {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultMuxConfig()
	cfg.Faults = faults
	m, err := NewMux(ln, func() Meta { return meta }, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMuxRoutesRaftAndMeta(t *testing.T) {
	want := Meta{NodeID: "n1", HTTPAddr: "127.0.0.1:8480"}
	m := newTestMux(t, want, nil)
	layer := m.RaftLayer(nil)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := QueryMeta(ctx, m.Addr().String(), nil)
	if err != nil || got != want {
		t.Fatalf("meta: got %+v (%v), want %+v", got, err, want)
	}

	c, err := layer.Dial(m.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	s, err := layer.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("raft stream: got %q (%v), want ping", buf, err)
	}
}

func TestMuxAcceptAfterClose(t *testing.T) {
	m := newTestMux(t, Meta{}, nil)
	m.Close()
	if _, err := m.RaftLayer(nil).Accept(); !errors.Is(err, ErrMuxClosed) {
		t.Fatalf("got %v, want ErrMuxClosed", err)
	}
}

func TestFaultsDropDial(t *testing.T) {
	f := NewFaults()
	m := newTestMux(t, Meta{}, f)
	addr := m.Addr().String()
	f.SetDropped(addr, true)
	if _, err := m.RaftLayer(nil).Dial(addr, time.Second); !errors.Is(err, ErrFaultDrop) {
		t.Fatalf("dropped peer: got %v, want ErrFaultDrop", err)
	}
	f.SetDropped(addr, false)
	c, err := m.RaftLayer(nil).Dial(addr, time.Second)
	if err != nil {
		t.Fatalf("healed peer: %v", err)
	}
	c.Close()
	f.SetDelay(time.Millisecond)
	if f.Delay() != time.Millisecond {
		t.Fatalf("got delay %v, want 1ms", f.Delay())
	}
	var none *Faults
	if none.Delay() != 0 || none.dialAllowed(addr) != nil {
		t.Fatalf("a nil Faults must inject nothing")
	}
}
