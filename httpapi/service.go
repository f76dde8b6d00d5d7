package httpapi

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
	"github.com/cellmap/cellmap/ops"
	"github.com/cellmap/cellmap/transport"
	"github.com/cellmap/cellmap/watch"
	"github.com/gorilla/mux"
	"github.com/hashicorp/go-hclog"
)

// Node is what the API needs of a cluster member (a *node.Node).
type Node interface {
	Apply(ctx context.Context, c fsm.Command) (*fsm.Result, error)
	Read(ctx context.Context, c node.Consistency, fn func(r *fsm.Reader) error) (node.ReadInfo, error)
	Status(ctx context.Context) (*api.ClusterStatus, error)
	Join(ctx context.Context, req api.JoinRequest) error
	Remove(ctx context.Context, id string) error
	Ready() (bool, string)
	AppliedIndex() uint64
	// Changed and Modified serve blocking queries (blocking.go).
	Changed() <-chan struct{}
	Modified(kind string) uint64
	// SetEventSink attaches the change stream's fan-out hub to the apply path (watchstream.go).
	SetEventSink(s fsm.EventSink)
	InternalHandler() http.Handler
	AuthFresh(ctx context.Context, lease time.Duration) error
}

// CellHealth reports gossip health of a cell; nil when the data plane is not running.
type CellHealth interface {
	CellHealth(cellUUID string) *api.CellHealth
}

// Config configures the API.
type Config struct {
	// Addr is the listen address.
	Addr string
	// Timeouts bound how long the server waits for a client (DefaultServerTimeouts).
	Timeouts transport.ServerTimeouts
	// HTTP2MaxStreams is how many requests one HTTP/2 connection may have open at once (the
	// server's SETTINGS_MAX_CONCURRENT_STREAMS): a client multiplexing change streams holds
	// one per watch. The API serves HTTP/1.1 and HTTP/2: over TLS by ALPN (the listener's
	// configuration offers h2, transport.WithHTTP2), in cleartext as h2c with prior knowledge.
	HTTP2MaxStreams int
	// Audit, when set, receives one line per write and per refused request.
	Audit Auditor
	// AuthLease is how long after its last contact with the cluster a node still judges
	// tokens from its own state (after that it first proves contact); a revoke waits for it.
	AuthLease time.Duration
	// BaseTransportURL and BaseDatabaseConnection fill template URLs on ?expand=true.
	BaseTransportURL       string
	BaseDatabaseConnection string
	// RequestTimeout bounds each request, including waits for the leader.
	RequestTimeout time.Duration
	// MaxBodyBytes bounds request bodies (transactions get TxnMaxBodyBytes).
	MaxBodyBytes    int64
	TxnMaxBodyBytes int64
	// TxnMaxOps bounds the ops of one transaction (1..fsm.MaxTxnOps, which the leader enforces
	// whatever the path).
	TxnMaxOps int
	// Servers, CellOps and Guard are the cells data plane (package cellproxy); when nil the
	// API serves mappings only.
	Servers Servers
	// Revoked, when set, is called after a token revoke was applied at index and returns once
	// every node refuses the token (each confirmed it applied the index, or lease passed for
	// those that did not answer: they refuse every token until they are in contact again).
	Revoked func(ctx context.Context, index uint64, lease time.Duration)
	CellOps CellOps
	Guard   ops.Guard
	// PasswordHash are the argon2id costs of the passwords /v1/identity/users stores.
	PasswordHash acl.HashParams
	// Metrics, when set, is served at GET /metrics (reader; see MetricsClientCerts); Routes,
	// when set, instruments every route.
	Metrics            http.Handler
	MetricsClientCerts bool
	Routes             RouteObserver
	// DefaultAvailabilityZone names the zone of the hosts in no zoned aggregate.
	DefaultAvailabilityZone string
	// Keyring runs gossip keyring operations on the whole pool (keyring.go); nil leaves those
	// endpoints out.
	Keyring Keyring
	// Operator serves backups and restores (operator.go); nil leaves those endpoints out.
	Operator Operator
	// Autopilot serves GET /v1/operator/autopilot/health (autopilot.go); nil leaves it out.
	Autopilot Autopilot
	// OperatorTimeout bounds a backup or a restore (instead of RequestTimeout), and
	// RestoreMaxBytes the backup a restore accepts.
	OperatorTimeout time.Duration
	RestoreMaxBytes int64
	// Certificate, when set, returns the certificate the HTTPS listener serves (the current
	// one of a *transport.TLSReloader): /readyz fails while it is missing or outside its
	// validity period.
	Certificate func() *x509.Certificate
	// ExternalTokens, when set, judges the tokens that are not cellmap's own (Keystone's,
	// package keystone).
	ExternalTokens ExternalTokens
	// Mounts are route sets other packages serve on the API (the OpenStack compute API).
	Mounts []Mount
	// Watch limits the change stream: watchers, per-watcher buffer, in-memory ring.
	Watch watch.Config
	// WatchWriteTimeout drops a change stream whose client takes nothing of a write for this
	// long (streamconn.go).
	WatchWriteTimeout time.Duration
	// Faults, when set, mounts POST /internal/faults (chaos testing only).
	Faults *transport.Faults
	// Logger is the API's logger; nil discards.
	Logger hclog.Logger
}

// DefaultHTTP2MaxStreams lets one HTTP/2 connection carry 1,000 requests at once (Go's
// default is 250): ten times what etcd's benchmark puts on one gRPC connection. A stream
// costs the node its handler's goroutine whatever the connection, and the node's watcher cap
// (--watch-max-watchers) bounds change streams across connections.
const (
	DefaultHTTP2MaxStreams = 1000
	MaxHTTP2MaxStreams     = 1 << 20
)

// DefaultConfig returns the production settings.
func DefaultConfig() *Config {
	return &Config{Addr: "127.0.0.1:8480", HTTP2MaxStreams: DefaultHTTP2MaxStreams, RequestTimeout: 10 * time.Second, MaxBodyBytes: 1 << 20,
		TxnMaxBodyBytes: 8 << 20, TxnMaxOps: 10000, Timeouts: transport.DefaultServerTimeouts(), AuthLease: 5 * time.Second,
		OperatorTimeout: time.Hour, RestoreMaxBytes: 64 << 30, DefaultAvailabilityZone: "nova", Watch: watch.DefaultConfig(),
		WatchWriteTimeout: 30 * time.Second,
		PasswordHash:      acl.DefaultHashParams()}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.RequestTimeout <= 0 || c.MaxBodyBytes <= 0 || c.TxnMaxBodyBytes <= 0 || c.TxnMaxOps <= 0 || c.AuthLease <= 0 || c.WatchWriteTimeout <= 0 {
		return errors.New("httpapi: RequestTimeout, MaxBodyBytes, TxnMaxBodyBytes, TxnMaxOps, AuthLease and WatchWriteTimeout must be positive")
	}
	if c.HTTP2MaxStreams < 1 || c.HTTP2MaxStreams > MaxHTTP2MaxStreams {
		return fmt.Errorf("httpapi: HTTP2MaxStreams must be from 1 to %d", MaxHTTP2MaxStreams)
	}
	if c.TxnMaxOps > fsm.MaxTxnOps {
		return fmt.Errorf("httpapi: TxnMaxOps must be at most %d", fsm.MaxTxnOps)
	}
	if c.Operator != nil && (c.OperatorTimeout <= 0 || c.RestoreMaxBytes <= 0) {
		return errors.New("httpapi: OperatorTimeout and RestoreMaxBytes must be positive")
	}
	if err := c.Watch.Validate(); err != nil {
		return fmt.Errorf("httpapi: %w", err)
	}
	if err := c.PasswordHash.Validate(); err != nil {
		return fmt.Errorf("httpapi: PasswordHash: %w", err)
	}
	return c.Timeouts.Validate()
}

// Service is the HTTP API of one node.
type Service struct {
	cfg    Config
	perms  map[string]acl.Perm // by route name, set while routes are registered
	node   Node
	unmap  *ops.Unmapper
	health CellHealth
	logger hclog.Logger
	router *mux.Router
	srv    *http.Server
	// closing is closed by Shutdown, ending change streams (which never go idle by themselves).
	closing   chan struct{}
	closeOnce sync.Once
	// lookups pools the state of instance mapping lookups (lookupBuf).
	lookups sync.Pool
	// hub fans applied changes out to change streams; attached to the node by the first.
	hub     *watch.Hub
	hubOnce sync.Once
}

// New builds the API. health may be nil; extra registers more routes (the data plane's).
func New(cfg *Config, n Node, health CellHealth, extra ...func(*mux.Router)) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: *cfg, node: n, unmap: ops.NewUnmapper(n, cfg.Guard), health: health, logger: cfg.Logger, closing: make(chan struct{})}
	if s.logger == nil {
		s.logger = hclog.NewNullLogger()
	}
	s.lookups.New = newLookupBuf
	var err error
	if s.hub, err = watch.New(cfg.Watch); err != nil {
		return nil, err
	}
	s.perms = map[string]acl.Perm{}
	s.router = s.routes()
	for _, r := range extra {
		r(s.router)
	}
	s.srv = cfg.Timeouts.Apply(&http.Server{Handler: s.router, Protocols: serverProtocols(),
		HTTP2:    &http.HTTP2Config{MaxConcurrentStreams: cfg.HTTP2MaxStreams},
		ErrorLog: s.logger.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true})})
	return s, nil
}

// serverProtocols are what the API speaks: HTTP/1.1, HTTP/2 over TLS (when the listener's
// configuration offers h2 by ALPN) and HTTP/2 in cleartext with prior knowledge (h2c).
func serverProtocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(true)
	return p
}

// Handler returns the API's handler.
func (s *Service) Handler() http.Handler { return s.router }

// Serve serves the API on ln until Shutdown (at once when Shutdown came first).
func (s *Service) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting requests and waits for those in flight until ctx ends.
func (s *Service) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() { close(s.closing) })
	return s.srv.Shutdown(ctx)
}

// withTimeout bounds every request: by RequestTimeout, backups and restores by
// OperatorTimeout.
func (s *Service) withTimeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.cfg.RequestTimeout
		if s.cfg.Operator != nil && longRequest(r) {
			limit = s.cfg.OperatorTimeout
		}
		if r.URL.Path == watchPath {
			// A change stream lasts until the client or the service ends it; each write
			// has its own deadline (watch.go).
			_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
			next.ServeHTTP(w, r)
			return
		}
		if wait := blockingLimit(r); wait > 0 {
			// A blocking query waits up to its wait (plus jitter), then reads.
			limit += wait
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(limit + time.Second))
		}
		ctx, cancel := context.WithTimeout(r.Context(), limit)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
