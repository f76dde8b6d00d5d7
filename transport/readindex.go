package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// The read-index protocol on the shared port: after the protocol byte, each request is one byte
// and each answer is a status byte and a big-endian uint64 index. A connection serves requests
// one after another; followers keep one open to the leader.
const (
	protoReadIndex byte = 'I'

	riOK        byte = 0
	riNotLeader byte = 1
	riFailed    byte = 2
)

// ErrRemoteNotLeader is returned when the node asked for a read index is not the leader.
var ErrRemoteNotLeader = errors.New("transport: peer is not the leader")

// ReadIndexFunc returns a read index; its error says whether this node leads.
type ReadIndexFunc func(ctx context.Context) (index uint64, notLeader bool, err error)

func (m *Mux) serveReadIndex(c net.Conn) {
	m.track(c, true)
	defer m.track(c, false)
	defer c.Close()
	var req [1]byte
	var resp [9]byte
	for {
		c.SetReadDeadline(time.Now().Add(5 * time.Minute))
		if _, err := io.ReadFull(c, req[:]); err != nil {
			return
		}
		resp[0] = riOK
		if m.readIndex == nil {
			resp[0] = riNotLeader
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			idx, notLeader, err := m.readIndex(ctx)
			cancel()
			binary.BigEndian.PutUint64(resp[1:], idx)
			switch {
			case notLeader:
				resp[0] = riNotLeader
			case err != nil:
				resp[0] = riFailed
			}
		}
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(resp[:]); err != nil {
			return
		}
	}
}

// ReadIndexClient asks leaders for read indexes over their raft port, reusing one connection
// per peer. Requests to one peer are serialised (callers coalesce them anyway).
type ReadIndexClient struct {
	faults *Faults
	mu     sync.Mutex
	conns  map[string]*riConn
}

type riConn struct {
	mu sync.Mutex
	c  net.Conn
}

// NewReadIndexClient returns a client; faults may be nil.
func NewReadIndexClient(faults *Faults) *ReadIndexClient {
	return &ReadIndexClient{faults: faults, conns: map[string]*riConn{}}
}

// ReadIndex asks the node at raftAddr for a read index.
func (r *ReadIndexClient) ReadIndex(ctx context.Context, raftAddr string) (uint64, error) {
	r.mu.Lock()
	rc := r.conns[raftAddr]
	if rc == nil {
		rc = &riConn{}
		r.conns[raftAddr] = rc
	}
	r.mu.Unlock()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.c == nil {
		if err := r.faults.dialAllowed(raftAddr); err != nil {
			return 0, err
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", raftAddr)
		if err != nil {
			return 0, fmt.Errorf("transport: read index from %s: %w", raftAddr, err)
		}
		if _, err := c.Write([]byte{protoReadIndex}); err != nil {
			c.Close()
			return 0, fmt.Errorf("transport: read index from %s: %w", raftAddr, err)
		}
		rc.c = r.faults.wrap(c)
	}
	idx, err := rc.ask(ctx)
	if err != nil && !errors.Is(err, ErrRemoteNotLeader) {
		rc.c.Close()
		rc.c = nil
		return 0, fmt.Errorf("transport: read index from %s: %w", raftAddr, err)
	}
	return idx, err
}

func (rc *riConn) ask(ctx context.Context) (uint64, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	rc.c.SetDeadline(deadline)
	if _, err := rc.c.Write([]byte{0}); err != nil {
		return 0, err
	}
	var resp [9]byte
	if _, err := io.ReadFull(rc.c, resp[:]); err != nil {
		return 0, err
	}
	switch resp[0] {
	case riOK:
		return binary.BigEndian.Uint64(resp[1:]), nil
	case riNotLeader:
		return 0, ErrRemoteNotLeader
	}
	return 0, errors.New("leader could not confirm a read index")
}

// Close closes every kept connection.
func (r *ReadIndexClient) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rc := range r.conns {
		rc.mu.Lock()
		if rc.c != nil {
			rc.c.Close()
			rc.c = nil
		}
		rc.mu.Unlock()
	}
}
