package transport

import (
	"context"
	"crypto/tls"
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
