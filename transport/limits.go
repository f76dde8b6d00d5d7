package transport

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// MuxConfig configures a [Mux]: how long a peer may take, and how many connections it is served.
type MuxConfig struct {
	// RPCTimeout bounds the handling of one request.
	RPCTimeout time.Duration
	// FrameTimeout bounds reading one request frame once its first byte has arrived, and the
	// protocol byte of a new connection.
	FrameTimeout time.Duration
	// IdleTimeout closes a request connection that brings no new request for this long.
	IdleTimeout time.Duration
	// MaxConns bounds the connections served at once, all peers together; MaxConnsPerPeer
	// those from one IP address. A connection over either is closed as soon as it is accepted.
	// Both must leave room for raft's own connections and for RPCClient's (at most its
	// maxConns per protocol and peer).
	MaxConns        int
	MaxConnsPerPeer int
	// Faults, when set, injects network faults (chaos tests).
	Faults *Faults
	// Logger receives the mux's messages; nil discards them.
	Logger Logger
}

// DefaultMuxConfig returns the production settings.
func DefaultMuxConfig() *MuxConfig {
	return &MuxConfig{RPCTimeout: 20 * time.Second, FrameTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute,
		MaxConns: 2048, MaxConnsPerPeer: 512}
}

// Validate checks the configuration.
func (c *MuxConfig) Validate() error {
	switch {
	case c.RPCTimeout <= 0 || c.FrameTimeout <= 0 || c.IdleTimeout <= 0:
		return errors.New("transport: RPCTimeout, FrameTimeout and IdleTimeout must be positive")
	case c.MaxConnsPerPeer <= 0 || c.MaxConns < c.MaxConnsPerPeer:
		return errors.New("transport: want 0 < MaxConnsPerPeer <= MaxConns")
	}
	return nil
}

// connLimits counts the connections a mux serves, in all and per peer IP.
type connLimits struct {
	maxTotal, maxPerPeer int

	mu      sync.Mutex
	total   int
	perPeer map[string]int
}

func newConnLimits(maxTotal, maxPerPeer int) *connLimits {
	return &connLimits{maxTotal: maxTotal, maxPerPeer: maxPerPeer, perPeer: map[string]int{}}
}

// admit counts c in and returns it wrapped so that closing it counts it out; ok is false (and c
// is not counted) when a cap is reached.
func (l *connLimits) admit(c net.Conn) (net.Conn, bool) {
	peer := peerOf(c.RemoteAddr())
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.maxTotal || l.perPeer[peer] >= l.maxPerPeer {
		return nil, false
	}
	l.total++
	l.perPeer[peer]++
	return &limitedConn{Conn: c, release: func() { l.release(peer) }}, true
}

func (l *connLimits) release(peer string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.perPeer[peer]--; l.perPeer[peer] <= 0 {
		delete(l.perPeer, peer)
	}
}

// open returns the number of connections counted in.
func (l *connLimits) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// peerOf is the IP address a connection comes from.
func peerOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// limitedConn gives its place back when closed (once, however often Close is called).
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// ConnectionState is the TLS state of the connection (zero when it is plain TCP).
func (c *limitedConn) ConnectionState() tls.ConnectionState {
	if tc, ok := c.Conn.(*tls.Conn); ok {
		return tc.ConnectionState()
	}
	return tls.ConnectionState{}
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
