package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config configures a Client.
type Config struct {
	// Addr is the node to talk to: "host:port", "http://host:port" or "https://host:port".
	// A bare host:port means https when TLS is set, http otherwise.
	Addr string
	// TLS is the client side of HTTPS: RootCAs verifies the node (nil: the system roots) and
	// Certificates, when set, is presented as the client certificate. nil with an https Addr
	// uses the system roots.
	TLS *tls.Config
	// HTTP2 makes the client speak HTTP/2, which cellmapd serves: by ALPN over TLS, with prior
	// knowledge (h2c) in cleartext. Every request to the node, change streams included, then
	// shares one connection (up to the node's --http2-max-streams). Off, the client speaks
	// HTTP/1.1: a change stream then costs the node less memory (about 8 KiB against 20 KiB
	// idle, see the README's fan-out measurements) but holds a connection of its own.
	HTTP2 bool
	// HTTP, when set, is used as is instead of a client built from the fields above.
	HTTP *http.Client
	// Token is sent with every request (Authorization: Bearer); every endpoint but /healthz,
	// /readyz and the ACL bootstrap needs one.
	Token string
	// LeaderWrites sends writes (POST, PUT, PATCH and DELETE under /v1/, but the operator's
	// and cluster membership's) straight to the leader's API address, which every answer to an
	// authorized request names (X-Cellmap-Leader), over the same TLS configuration and with
	// the same token; reads stay on Addr. Until the client knows the leader, and when the
	// leader cannot be connected to or answers that it knows no leader (that address is then
	// avoided for 30 s), writes go to Addr, which forwards them as without the option. A write whose
	// outcome is unknown (the connection broke after it was sent, outcome_unknown) is never
	// sent again. Off by default: behind a load balancer or a gateway the nodes' own addresses
	// may be unreachable, or meant to stay behind it; turn it on when the client may reach
	// the nodes directly, to save every write a hop (see the README's performance section).
	LeaderWrites bool
}

// DefaultConfig returns a configuration for a node on this machine.
func DefaultConfig() *Config { return &Config{Addr: "127.0.0.1:8480"} }

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Addr == "" {
		return errors.New("client: Addr is required")
	}
	u, err := url.Parse(c.baseURL())
	if err != nil {
		return fmt.Errorf("client: Addr %q: %w", c.Addr, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("client: Addr %q: want http:// or https://", c.Addr)
	}
	if u.Host == "" {
		return fmt.Errorf("client: Addr %q has no host", c.Addr)
	}
	if u.Scheme == "http" && c.TLS != nil && c.HTTP == nil {
		return fmt.Errorf("client: Addr %q is plain http but TLS is configured", c.Addr)
	}
	return nil
}

// baseURL is Addr with its scheme.
func (c *Config) baseURL() string {
	if strings.Contains(c.Addr, "://") {
		return strings.TrimRight(c.Addr, "/")
	}
	if c.TLS != nil {
		return "https://" + c.Addr
	}
	return "http://" + c.Addr
}

// NewWithConfig returns a client configured by cfg.
func NewWithConfig(cfg *Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{Transport: newTransport(cfg.TLS, cfg.HTTP2)}
	}
	c := &Client{base: cfg.baseURL(), http: hc, token: cfg.Token}
	if cfg.LeaderWrites {
		c.route = newLeaderRoute(c.base)
	}
	return c, nil
}

// newTransport is the keep-alive transport of a client without an overall timeout (requests
// are bounded by their contexts): HTTP/1.1, or with h2 HTTP/2 (by ALPN over TLS, with prior
// knowledge in cleartext).
func newTransport(tlsCfg *tls.Config, h2 bool) *http.Transport {
	p := new(http.Protocols)
	switch {
	case h2 && tlsCfg != nil: // offered by ALPN, HTTP/1.1 if the server has no h2
		p.SetHTTP1(true)
		p.SetHTTP2(true)
	case h2: // and no HTTP1: http:// requests go as HTTP/2
		p.SetUnencryptedHTTP2(true)
	default:
		p.SetHTTP1(true)
	}
	return &http.Transport{
		Protocols:           p,
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsCfg,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	}
}

// notSent reports whether a transport error happened before the request was sent: the
// connection could not be opened, or its TLS handshake failed.
func notSent(err error) bool {
	var (
		op        *net.OpError
		verify    *tls.CertificateVerificationError
		record    tls.RecordHeaderError
		alert     tls.AlertError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	return (errors.As(err, &op) && op.Op == "dial") || errors.As(err, &verify) || errors.As(err, &record) ||
		errors.As(err, &alert) || errors.As(err, &authority) || errors.As(err, &hostname) || errors.As(err, &invalid)
}
