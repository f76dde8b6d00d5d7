package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"time"
)

// Request/response protocols on the shared port. After the protocol byte a connection carries
// frames (uvarint length, payload): a request, its answer, the next request... Callers keep
// connections open and use one per request in flight.
const (
	// ProtoApply forwards a log entry to the leader.
	ProtoApply byte = 'A'
	// ProtoReadIndex asks the leader for a read index.
	ProtoReadIndex byte = 'I'
	// ProtoApplyTraced is ProtoApply with the request id of the write before the entry (for
	// the leader's log lines); only to nodes whose Meta says TracedApply.
	ProtoApplyTraced byte = 'T'
)

// maxFrame bounds one request or answer.
const maxFrame = 16 << 20

// frameChunk is the most a frame's buffer grows by before the bytes to fill it have arrived:
// a frame costs about what its peer sent, never what it declared.
const frameChunk = 64 << 10

// RPCHandler answers one request of a protocol.
type RPCHandler func(ctx context.Context, req []byte) []byte

func (m *Mux) serveRPC(c net.Conn, h RPCHandler) {
	m.track(c, true)
	defer m.track(c, false)
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		// Between requests a connection may wait (callers keep them for reuse); once a request
		// has begun, all of it must arrive within FrameTimeout.
		c.SetReadDeadline(time.Now().Add(m.cfg.IdleTimeout))
		if _, err := r.Peek(1); err != nil {
			return
		}
		c.SetReadDeadline(time.Now().Add(m.cfg.FrameTimeout))
		req, err := readFrame(r)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), m.cfg.RPCTimeout)
		resp := h(ctx, req)
		cancel()
		c.SetWriteDeadline(time.Now().Add(m.cfg.FrameTimeout))
		if err := writeFrame(c, resp); err != nil {
			return
		}
	}
}

// readFrame reads one frame (uvarint length, payload) of at most maxFrame bytes. Its buffer
// grows as bytes arrive, by at most frameChunk or its size at a time.
func readFrame(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > maxFrame {
		return nil, fmt.Errorf("transport: frame of %d bytes", n)
	}
	size := int(n)
	b := make([]byte, 0, min(size, frameChunk))
	for len(b) < size {
		if len(b) == cap(b) {
			b = slices.Grow(b, min(size-len(b), cap(b)))
		}
		k, err := r.Read(b[len(b):min(cap(b), size)])
		b = b[:len(b)+k]
		if err != nil && len(b) < size {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return b, nil
}

func writeFrame(w io.Writer, p []byte) error {
	b := make([]byte, 0, binary.MaxVarintLen64+len(p))
	b = binary.AppendUvarint(b, uint64(len(p)))
	_, err := w.Write(append(b, p...))
	return err
}

// ErrNotSent reports that a call failed before its request was completely written: the peer
// cannot have acted on it.
var ErrNotSent = errors.New("transport: request not sent")

// RPCClient calls one protocol on peers' shared ports, keeping idle connections for reuse.
type RPCClient struct {
	proto    byte
	faults   *Faults
	tls      *tls.Config
	maxConns int

	mu    sync.Mutex
	idle  map[string][]*rpcConn
	slots map[string]chan struct{} // per peer: one token per call under way
}

type rpcConn struct {
	c net.Conn
	r *bufio.Reader
}

// NewRPCClient returns a client of proto with at most maxConns connections to one peer, in
// use or idle: a call waits for one when all are busy (a peer's mux caps the connections it
// serves; staying under the cap keeps every call's failure definite). faults may be nil;
// clientTLS, when set, secures every connection (nil: plain TCP).
func NewRPCClient(proto byte, maxConns int, faults *Faults, clientTLS *tls.Config) *RPCClient {
	return &RPCClient{proto: proto, faults: faults, tls: clientTLS, maxConns: max(maxConns, 1),
		idle: map[string][]*rpcConn{}, slots: map[string]chan struct{}{}}
}

// Call sends req to the peer at addr and returns its answer. An error wrapping ErrNotSent
// means the peer never got the whole request; any other error leaves its fate unknown.
func (c *RPCClient) Call(ctx context.Context, addr string, req []byte) ([]byte, error) {
	slots := c.slotsOf(addr)
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for a connection to %s: %w", ErrNotSent, addr, ctx.Err())
	}
	defer func() { <-slots }()
	rc, err := c.conn(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	rc.c.SetDeadline(deadline)
	if err := writeFrame(rc.c, req); err != nil {
		rc.c.Close()
		return nil, fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	resp, err := readFrame(rc.r)
	if err != nil {
		rc.c.Close()
		return nil, fmt.Errorf("transport: call %s: %w", addr, err)
	}
	c.release(addr, rc)
	return resp, nil
}

func (c *RPCClient) slotsOf(addr string) chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.slots[addr]
	if !ok {
		s = make(chan struct{}, c.maxConns)
		c.slots[addr] = s
	}
	return s
}

// conn returns a live idle connection to addr, or a new one.
func (c *RPCClient) conn(ctx context.Context, addr string) (*rpcConn, error) {
	for {
		c.mu.Lock()
		list := c.idle[addr]
		if len(list) == 0 {
			c.mu.Unlock()
			break
		}
		rc := list[len(list)-1]
		c.idle[addr] = list[:len(list)-1]
		c.mu.Unlock()
		if alive(rc.c) {
			return rc, nil
		}
		rc.c.Close()
	}
	if err := c.faults.dialAllowed(addr); err != nil {
		return nil, err
	}
	nc, err := dialMux(ctx, addr, c.tls)
	if err != nil {
		return nil, err
	}
	if _, err := nc.Write([]byte{c.proto}); err != nil {
		nc.Close()
		return nil, err
	}
	nc = c.faults.wrap(nc)
	return &rpcConn{c: nc, r: bufio.NewReader(nc)}, nil
}

// alive tells whether an idle connection was closed by its peer (which never writes unasked).
func alive(c net.Conn) bool {
	c.SetReadDeadline(time.Now())
	var b [1]byte
	_, err := c.Read(b[:])
	return errors.Is(err, os.ErrDeadlineExceeded)
}

func (c *RPCClient) release(addr string, rc *rpcConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.idle[addr]) >= c.maxConns {
		rc.c.Close()
		return
	}
	c.idle[addr] = append(c.idle[addr], rc)
}

// Close closes every idle connection.
func (c *RPCClient) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for addr, list := range c.idle {
		for _, rc := range list {
			rc.c.Close()
		}
		delete(c.idle, addr)
	}
}
