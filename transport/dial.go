package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// ErrHandshake reports a TLS handshake that failed: the peer's certificate was refused, or it
// refused ours. Nothing was sent on the connection.
var ErrHandshake = errors.New("transport: TLS handshake failed")

// handshakeTimeout bounds a TLS handshake whose context has no deadline.
const handshakeTimeout = 10 * time.Second

// dialConn opens a TCP connection to addr and, when cfg is set, runs the TLS handshake on it
// before returning. A handshake failure wraps ErrHandshake.
func dialConn(ctx context.Context, d *net.Dialer, addr string, cfg *tls.Config) (net.Conn, error) {
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil || cfg == nil {
		return c, err
	}
	return clientHandshake(ctx, c, addr, cfg)
}

// clientHandshake runs the client side of TLS on c (closed on failure).
func clientHandshake(ctx context.Context, c net.Conn, addr string, cfg *tls.Config) (net.Conn, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, handshakeTimeout)
		defer cancel()
	}
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w with %s: %w", ErrHandshake, addr, err)
	}
	return tc, nil
}

// muxAccepted is the byte a TLS mux writes once a connection's handshake completed with the
// client's certificate accepted. Under TLS 1.3 a client's handshake completes before the
// server has verified its certificate; waiting for this byte lets the dialer know that the
// connection was accepted before it sends anything, so a refused certificate is a definite
// failure (ErrHandshake) rather than a request of unknown fate.
const muxAccepted byte = 0x06

// dialMux opens a connection to a mux's shared port: with TLS, the handshake and the mux's
// acceptance byte.
func dialMux(ctx context.Context, addr string, cfg *tls.Config) (net.Conn, error) {
	c, err := dialConn(ctx, &net.Dialer{}, addr, cfg)
	if err != nil || cfg == nil {
		return c, err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(handshakeTimeout)
	}
	c.SetReadDeadline(deadline)
	var b [1]byte
	if _, err := c.Read(b[:]); err != nil || b[0] != muxAccepted {
		c.Close()
		if err == nil {
			err = fmt.Errorf("unexpected byte %#x", b[0])
		}
		return nil, fmt.Errorf("%w with %s: the peer did not accept the connection: %w", ErrHandshake, addr, err)
	}
	c.SetReadDeadline(time.Time{})
	return c, nil
}

// serverHandshake runs the server side of TLS on an accepted connection of a mux when it is
// one, within timeout, and tells the client it was accepted (muxAccepted); a plain connection
// passes unchanged.
func serverHandshake(c net.Conn, timeout time.Duration) error {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("%w with %s: %w", ErrHandshake, c.RemoteAddr(), err)
	}
	tc.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := tc.Write([]byte{muxAccepted}); err != nil {
		return fmt.Errorf("transport: accept %s: %w", c.RemoteAddr(), err)
	}
	tc.SetWriteDeadline(time.Time{})
	return nil
}

// TLSListener wraps ln so that every accepted connection speaks TLS with cfg (nil: ln itself).
// The handshake runs on the connection's first read or write, or explicitly.
func TLSListener(ln net.Listener, cfg *tls.Config) net.Listener {
	if cfg == nil {
		return ln
	}
	return tls.NewListener(ln, cfg)
}
