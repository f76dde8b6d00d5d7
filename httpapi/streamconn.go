package httpapi

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// streamOut is where a change stream writes: every write is sent (flushed) at once and
// fails when the client has not taken it within Config.WatchWriteTimeout, so a client that stops
// reading holds nothing but its own stream.
type streamOut interface {
	write(b []byte) error
	// alive reports whether the client may still be there (false once it hung up).
	alive() bool
	close()
}

// httpOut writes through the server's ResponseWriter (HTTP/2, or a writer that cannot be
// taken over); the request's context says when the client left.
//
// Over HTTP/2 a write deadline is a timer of the stream that resets it when it fires, write
// or not, and setting one is a message to the connection's serving goroutine. So the
// deadline is not set per write: it reaches timeout past the next progress line (hold, the
// stream's progress interval, is the longest a live stream goes without writing) and is
// pushed on once less than hold plus half the timeout is left. A write the client does not
// take fails after between half the timeout and hold plus the timeout.
type httpOut struct {
	w        http.ResponseWriter
	rc       *http.ResponseController
	timeout  time.Duration
	hold     time.Duration
	deadline time.Time
}

func (o *httpOut) write(b []byte) error {
	if now := time.Now(); o.deadline.Sub(now) < o.hold+o.timeout/2 {
		o.deadline = now.Add(o.hold + o.timeout)
		_ = o.rc.SetWriteDeadline(o.deadline)
	}
	if _, err := o.w.Write(b); err != nil {
		return err
	}
	return o.rc.Flush()
}

func (o *httpOut) alive() bool { return true }
func (o *httpOut) close()      {}

// chunkedConn writes an HTTP/1.1 chunked body on a connection taken over from the server
// after it sent the headers (Transfer-Encoding: chunked).
type chunkedConn struct {
	conn    net.Conn
	timeout time.Duration
	head    []byte
	peek    [1]byte
}

func newChunkedConn(conn net.Conn, timeout time.Duration) *chunkedConn {
	return &chunkedConn{conn: conn, timeout: timeout}
}

func (c *chunkedConn) write(b []byte) error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
	c.head = append(strconv.AppendInt(c.head[:0], int64(len(b)), 16), '\r', '\n')
	bufs := net.Buffers{c.head, b, crlf}
	_, err := bufs.WriteTo(c.conn)
	return err
}

var crlf = []byte("\r\n")

// alive (asked at every progress interval) reads what the client sent, waiting at most a
// millisecond: nothing (a timeout)
// means it is there; the end of the stream or an error means it hung up. A client sends
// nothing after its request while it watches.
func (c *chunkedConn) alive() bool {
	_ = c.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := c.conn.Read(c.peek[:])
	return err == nil || errors.Is(err, os.ErrDeadlineExceeded)
}

// close ends the body (the last chunk) and the connection.
func (c *chunkedConn) close() {
	_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = fmt.Fprint(c.conn, "0\r\n\r\n")
	_ = c.conn.Close()
}
