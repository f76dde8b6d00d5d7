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

// serverHandshake runs the server side of TLS on an accepted connection when it is one, within
// timeout; a plain connection passes unchanged.
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
