package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// First byte a client writes on the shared port, naming the protocol that follows.
const (
	protoRaft byte = 'R'
	protoMeta byte = 'M'
)

// ErrMuxClosed is returned by Accept after the mux closed.
var ErrMuxClosed = errors.New("transport: mux closed")

// Logger is the part of a structured logger (hclog) the mux uses.
type Logger interface {
	Warn(msg string, args ...interface{})
	Error(msg string, args ...interface{})
}

type nopLogger struct{}

func (nopLogger) Warn(string, ...interface{})  {}
func (nopLogger) Error(string, ...interface{}) {}

// Meta is what a node tells a peer that asks who it is.
type Meta struct {
	NodeID   string `json:"node_id"`
	HTTPAddr string `json:"http_addr"`
	// LogVersion is the newest log entry version the node reads (0 from releases before
	// log versions: they read version 1).
	LogVersion uint64 `json:"log_version,omitempty"`
	// AppliedIndex is the raft index the node's state reflects when it answers.
	AppliedIndex uint64 `json:"applied_index,omitempty"`
	// TracedApply says the node answers ProtoApplyTraced (false from releases before it).
	TracedApply bool `json:"traced_apply,omitempty"`
	// LastLogIndex and LastLogTerm are the node's last raft log entry, LastContactNS the time
	// since it last heard from a leader (0 on the leader, -1 never): the leader's autopilot
	// judges the node's health by them (zero from releases before them: unhealthy).
	LastLogIndex  uint64 `json:"last_log_index,omitempty"`
	LastLogTerm   uint64 `json:"last_log_term,omitempty"`
	LastContactNS int64  `json:"last_contact_ns,omitempty"`
}

// Mux shares one TCP listener between raft's stream layer and metadata queries, so a node is
// found by its raft address alone (raft only knows peers by that address). When the listener
// speaks TLS (TLSListener), every connection completes its handshake, peer certificate
// verified, before its first byte is read: a connection refused there never reaches raft or
// an RPC handler.
type Mux struct {
	ln     net.Listener
	meta   func() Meta
	rpc    map[byte]RPCHandler
	cfg    MuxConfig
	faults *Faults
	logger Logger
	limits *connLimits
	// refused counts connections closed at accept for a cap (logged now and then).
	refused atomic.Int64

	raftConns chan net.Conn
	done      chan struct{}
	closeOnce sync.Once

	connsMu sync.Mutex
	conns   map[net.Conn]bool // long-lived connections this mux serves itself
}

// track records a served connection so Close can end it.
func (m *Mux) track(c net.Conn, add bool) {
	m.connsMu.Lock()
	defer m.connsMu.Unlock()
	if add {
		select {
		case <-m.done:
			c.Close()
		default:
			m.conns[c] = true
		}
		return
	}
	delete(m.conns, c)
}

// NewMux serves ln. meta is called for every metadata query; rpc maps protocol bytes
// (ProtoApply, ProtoReadIndex) to their handlers.
func NewMux(ln net.Listener, meta func() Meta, rpc map[byte]RPCHandler, cfg *MuxConfig) (*Mux, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Mux{ln: ln, meta: meta, rpc: rpc, cfg: *cfg, faults: cfg.Faults, logger: cfg.Logger,
		limits:    newConnLimits(cfg.MaxConns, cfg.MaxConnsPerPeer),
		raftConns: make(chan net.Conn, 16), done: make(chan struct{}), conns: map[net.Conn]bool{}}
	if m.logger == nil {
		m.logger = nopLogger{}
	}
	go m.serve()
	return m, nil
}

func (m *Mux) serve() {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			m.logger.Error("accept failed; mux stops", "error", err)
			m.Close()
			return
		}
		lc, ok := m.limits.admit(c)
		if !ok {
			c.Close()
			if n := m.refused.Add(1); n%1000 == 1 {
				m.logger.Warn("connection cap reached; closing new connections", "remote", c.RemoteAddr(),
					"max_conns", m.cfg.MaxConns, "max_conns_per_peer", m.cfg.MaxConnsPerPeer, "refused_so_far", n)
			}
			continue
		}
		go m.route(lc)
	}
}

func (m *Mux) route(c net.Conn) {
	raw := c
	if lc, ok := c.(*limitedConn); ok {
		raw = lc.Conn // the TLS connection under the limit's wrapper
	}
	if err := serverHandshake(raw, handshakeTimeout); err != nil {
		m.logger.Warn("connection refused on the raft port", "remote", c.RemoteAddr(), "error", err)
		c.Close()
		return
	}
	c.SetReadDeadline(time.Now().Add(m.cfg.FrameTimeout))
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	switch b[0] {
	case protoRaft:
		select {
		case m.raftConns <- m.faults.wrap(c):
		case <-m.done:
			c.Close()
		}
	case protoMeta:
		defer c.Close()
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		json.NewEncoder(c).Encode(m.meta())
	default:
		if h, ok := m.rpc[b[0]]; ok {
			m.serveRPC(m.faults.wrap(c), h)
			return
		}
		m.logger.Warn("unknown protocol on raft port", "byte", b[0], "remote", c.RemoteAddr())
		c.Close()
	}
}

// Close stops accepting.
func (m *Mux) Close() error {
	var err error
	m.closeOnce.Do(func() {
		m.connsMu.Lock()
		close(m.done)
		for c := range m.conns {
			c.Close()
		}
		m.connsMu.Unlock()
		err = m.ln.Close()
	})
	return err
}

// Addr is the listener's address.
func (m *Mux) Addr() net.Addr { return m.ln.Addr() }

// RaftLayer returns the listener-and-dialer raft's network transport runs on. Its dialer
// speaks TLS with clientTLS when set (nil: plain TCP).
func (m *Mux) RaftLayer(clientTLS *tls.Config) *RaftLayer {
	return &RaftLayer{mux: m, tls: clientTLS}
}

// RaftLayer is raft's side of the mux: a net.Listener of raft connections and a dialer that
// marks its connections as raft's.
type RaftLayer struct {
	mux *Mux
	tls *tls.Config
}

// Accept returns the next raft connection.
func (l *RaftLayer) Accept() (net.Conn, error) {
	select {
	case c := <-l.mux.raftConns:
		return c, nil
	case <-l.mux.done:
		return nil, ErrMuxClosed
	}
}

// Close closes the mux.
func (l *RaftLayer) Close() error { return l.mux.Close() }

// Addr is the shared listener's address.
func (l *RaftLayer) Addr() net.Addr { return l.mux.Addr() }

// Dial opens a raft connection to a peer's shared port.
func (l *RaftLayer) Dial(address string, timeout time.Duration) (net.Conn, error) {
	if err := l.mux.faults.dialAllowed(address); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := dialMux(ctx, address, l.tls)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte{protoRaft}); err != nil {
		c.Close()
		return nil, err
	}
	return l.mux.faults.wrap(c), nil
}

// QueryMeta asks the node listening on raftAddr who it is, over TLS with clientTLS when set.
func QueryMeta(ctx context.Context, raftAddr string, clientTLS *tls.Config) (Meta, error) {
	c, err := dialMux(ctx, raftAddr, clientTLS)
	if err != nil {
		return Meta{}, fmt.Errorf("transport: query meta of %s: %w", raftAddr, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	} else {
		c.SetDeadline(time.Now().Add(5 * time.Second))
	}
	if _, err := c.Write([]byte{protoMeta}); err != nil {
		return Meta{}, fmt.Errorf("transport: query meta of %s: %w", raftAddr, err)
	}
	var meta Meta
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&meta); err != nil {
		return Meta{}, fmt.Errorf("transport: query meta of %s: %w", raftAddr, err)
	}
	return meta, nil
}
