package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"time"
)

// HTTPConfig configures a pooled HTTP client.
type HTTPConfig struct {
	// DialTimeout bounds connection setup.
	DialTimeout time.Duration
	// MaxIdleConnsPerHost is how many keep-alive connections to one peer are kept for reuse;
	// it should be at least the number of concurrent forwarded requests.
	MaxIdleConnsPerHost int
	// IdleConnTimeout closes unused keep-alive connections.
	IdleConnTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a peer's answer once the request is sent;
	// 0 leaves it to the request's context.
	ResponseHeaderTimeout time.Duration
	// TLS, when set, makes the client speak HTTPS with this configuration (see
	// TLSReloader.ClientConfig); a failed handshake wraps ErrHandshake, so the caller knows
	// that nothing was sent.
	TLS *tls.Config
}

// DefaultHTTPConfig returns settings for node-to-node forwarding on a LAN.
func DefaultHTTPConfig() *HTTPConfig {
	return &HTTPConfig{DialTimeout: 2 * time.Second, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second}
}

// NewHTTPClient returns a client that reuses connections. It never follows redirects: a
// forwarded request is answered by the node it was sent to.
func NewHTTPClient(cfg *HTTPConfig) *http.Client {
	if cfg == nil {
		cfg = DefaultHTTPConfig()
	}
	dialer := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		MaxIdleConns:          cfg.MaxIdleConnsPerHost * 4,
		MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:       cfg.IdleConnTimeout,
		ResponseHeaderTimeout: cfg.ResponseHeaderTimeout,
		ForceAttemptHTTP2:     false,
	}
	if cfg.TLS != nil {
		tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialConn(ctx, dialer, addr, cfg.TLS)
		}
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// ServerTimeouts bound how long an HTTP server of cellmap (the API, the conductor, pprof)
// waits for a client: a request whose headers or body never finish, or a client that never
// reads the answer, must not hold a connection for ever.
type ServerTimeouts struct {
	// ReadHeader bounds reading a request's headers.
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included.
	Read time.Duration
	// Write bounds writing an answer, from the end of the request's headers.
	Write time.Duration
	// Idle closes a keep-alive connection that sends no new request.
	Idle time.Duration
}

// DefaultServerTimeouts returns the production bounds: 10 s for headers, 1 min for a whole
// request (16 MiB bodies on a slow link), 2 min to write an answer, 2 min idle.
func DefaultServerTimeouts() ServerTimeouts {
	return ServerTimeouts{ReadHeader: 10 * time.Second, Read: time.Minute, Write: 2 * time.Minute, Idle: 2 * time.Minute}
}

// Validate checks that every bound is set.
func (t ServerTimeouts) Validate() error {
	if t.ReadHeader <= 0 || t.Read <= 0 || t.Write <= 0 || t.Idle <= 0 {
		return errors.New("transport: every HTTP server timeout (read header, read, write, idle) must be positive")
	}
	return nil
}

// Apply sets the bounds on srv.
func (t ServerTimeouts) Apply(srv *http.Server) *http.Server {
	srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout = t.ReadHeader, t.Read, t.Write, t.Idle
	return srv
}

// WithHTTP2 returns cfg offering HTTP/2 and HTTP/1.1 by ALPN ("h2", "http/1.1"), as
// http.Server.ServeTLS would: a listener built with tls.NewListener (TLSListener) and served
// with http.Server.Serve speaks HTTP/1.1 only unless its configuration offers h2. The
// configurations cfg.GetConfigForClient returns (TLSReloader.ServerConfig's) offer them too.
// nil stays nil.
func WithHTTP2(cfg *tls.Config) *tls.Config {
	if cfg == nil {
		return nil
	}
	protos := []string{"h2", "http/1.1"}
	out := cfg.Clone()
	out.NextProtos = protos
	if get := cfg.GetConfigForClient; get != nil {
		out.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			c, err := get(hello)
			if c == nil || err != nil {
				return c, err
			}
			c = c.Clone() // it may be shared
			c.NextProtos = protos
			return c, nil
		}
	}
	return out
}
