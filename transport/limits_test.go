package transport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestRPCFrameReaderAllocatesAsBytesArrive: a frame that declares 16 MiB and brings 1 KiB
// must cost about what arrived, not what it declared (16 such connections took a node from
// 33 MB to 280 MB).
func TestRPCFrameReaderAllocatesAsBytesArrive(t *testing.T) {
	head := binary.AppendUvarint(nil, maxFrame)
	in := io.MultiReader(bytes.NewReader(head), bytes.NewReader(make([]byte, 1024)))
	r := bufio.NewReader(in)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readFrame(r)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatalf("a truncated frame was read without error")
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Fatalf("reading 1 KiB of a frame declared as %d bytes allocated %d bytes", maxFrame, got)
	}
}

// deadlineConn is a connection that delivers the start of one frame, then records the read
// deadline in force when the reader comes back for the rest of the frame.
type deadlineConn struct {
	net.Conn
	mu       sync.Mutex
	deadline time.Time
	reads    int
	midFrame time.Time // the deadline when the rest of the frame was asked for
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	return nil
}
func (c *deadlineConn) SetWriteDeadline(time.Time) error { return nil }
func (c *deadlineConn) SetDeadline(t time.Time) error    { return c.SetReadDeadline(t) }
func (c *deadlineConn) Close() error                     { return nil }
func (c *deadlineConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
}
func (c *deadlineConn) Write(p []byte) (int, error) { return len(p), nil }

func (c *deadlineConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	if c.reads == 1 {
		return copy(p, []byte{100, 'x'}), nil // a 100-byte frame, 1 byte of it
	}
	c.midFrame = c.deadline
	return 0, os.ErrDeadlineExceeded
}

// TestRPCFrameHasShortDeadline: once a frame has begun, the rest of it must arrive within a
// short deadline (it was 10 minutes), so a peer cannot hold a connection and its buffer by
// sending a frame slowly.
func TestRPCFrameHasShortDeadline(t *testing.T) {
	m := newTestMux(t, Meta{}, nil)
	c := &deadlineConn{}
	m.serveRPC(c, func(context.Context, []byte) []byte { return nil })
	if c.midFrame.IsZero() {
		t.Fatalf("no read deadline while a frame was being read")
	}
	if left := time.Until(c.midFrame); left > time.Minute {
		t.Fatalf("a frame under way may take %v more, want at most a minute", left.Round(time.Second))
	}
}

// countingListener counts the connections it accepted and how many of them were closed.
type countingListener struct {
	net.Listener
	accepted, closed atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
		c = &countedConn{Conn: c, l: l}
	}
	return c, err
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.closed.Add(1) })
	return c.Conn.Close()
}

// dialFrom opens a connection to addr from the loopback address ip and starts a request that
// it never finishes.
func dialFrom(t *testing.T, ip, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.Write([]byte{ProtoApply, 100, 'x'}) // a 100-byte request, never finished
	return c
}

// TestMuxCapsConnectionsPerPeer: one peer opening many connections that each start a request
// and never finish it must not get more than the per-peer cap served at once, nor all peers
// together more than the total cap; the rest are closed as soon as they are accepted, and a
// closed connection gives its place back.
func TestMuxCapsConnectionsPerPeer(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &countingListener{Listener: raw}
	cfg := DefaultMuxConfig()
	cfg.MaxConnsPerPeer, cfg.MaxConns, cfg.FrameTimeout = 4, 6, time.Hour
	m := mustMux(t, ln, map[byte]RPCHandler{ProtoApply: func(context.Context, []byte) []byte { return nil }}, cfg)
	t.Cleanup(func() { m.Close() })
	addr := m.Addr().String()
	served := func() int64 { return ln.accepted.Load() - ln.closed.Load() }

	var first []net.Conn
	for i := 0; i < 10; i++ {
		first = append(first, dialFrom(t, "127.0.0.1", addr))
	}
	testkit.WaitFor(t, "one peer held to its cap", 20*time.Second, func() bool {
		return ln.accepted.Load() == 10 && served() == 4 && m.limits.open() == 4
	})
	for i := 0; i < 10; i++ {
		dialFrom(t, "127.0.0.2", addr)
	}
	testkit.WaitFor(t, "all peers held to the total cap", 20*time.Second, func() bool {
		return ln.accepted.Load() == 20 && served() == 6 && m.limits.open() == 6
	})
	for _, c := range first {
		c.Close()
	}
	testkit.WaitFor(t, "the first peer's places given back", 20*time.Second, func() bool {
		return m.limits.open() == 2
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := QueryMeta(ctx, addr, nil); err != nil {
		t.Fatalf("a new connection after places were given back: %v", err)
	}
}

// TestRPCClientStaysUnderItsCap: a client never opens more than maxConns connections to one
// peer; a call that finds them all busy waits, and one whose context ends while it waits
// fails as not sent (definite).
func TestRPCClientStaysUnderItsCap(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}, 4), make(chan struct{})
	m := mustMux(t, ln, map[byte]RPCHandler{ProtoApply: func(context.Context, []byte) []byte {
		entered <- struct{}{}
		<-release
		return []byte("ok")
	}}, DefaultMuxConfig())
	t.Cleanup(func() { m.Close() })
	c := NewRPCClient(ProtoApply, 1, nil, nil)
	defer c.Close()
	done := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), m.Addr().String(), []byte("a"))
		done <- err
	}()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Call(ctx, m.Addr().String(), []byte("b")); !errors.Is(err, ErrNotSent) {
		t.Fatalf("call while the only connection is busy: got %v, want ErrNotSent", err)
	}
	if got := m.limits.open(); got != 1 {
		t.Fatalf("the peer serves %d connections of a client capped at 1", got)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("first call: %v", err)
	}
}

// FuzzReadFrame feeds arbitrary bytes to the RPC frame reader: it never panics, never returns
// more than it was given, and never holds much more memory than it was given.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{3, 'a', 'b', 'c'})
	f.Add([]byte{0})
	f.Add(binary.AppendUvarint(nil, maxFrame))
	f.Add(binary.AppendUvarint(nil, maxFrame+1))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add(append(binary.AppendUvarint(nil, 70000), make([]byte, 1000)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		b, err := readFrame(bufio.NewReader(bytes.NewReader(in)))
		if err != nil {
			return
		}
		if len(b) > len(in) {
			t.Fatalf("read a frame of %d bytes from %d bytes", len(b), len(in))
		}
		if cap(b) > 2*len(in)+frameChunk {
			t.Fatalf("a frame of %d bytes holds %d", len(b), cap(b))
		}
	})
}
