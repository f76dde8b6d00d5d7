package transport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
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

// TestMuxCapsConnectionsPerPeer: one peer opening many connections that each start a request
// and never finish it must not get more than the per-peer cap served at once; the rest are
// closed as soon as they are accepted.
func TestMuxCapsConnectionsPerPeer(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &countingListener{Listener: raw}
	m := NewMux(ln, func() Meta { return Meta{} }, map[byte]RPCHandler{
		ProtoApply: func(context.Context, []byte) []byte { return nil },
	}, time.Second, nil, nil)
	t.Cleanup(func() { m.Close() })
	const conns, perPeerCap = 300, 256
	for i := 0; i < conns; i++ {
		c, err := net.Dial("tcp", m.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.Write([]byte{ProtoApply, 100, 'x'}) // a 100-byte request, never finished
	}
	testkit.WaitFor(t, "the connections above the cap to be closed", 20*time.Second, func() bool {
		return ln.accepted.Load() == conns && ln.accepted.Load()-ln.closed.Load() <= perPeerCap
	})
}
