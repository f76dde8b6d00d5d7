package conductor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/gossip"
	"github.com/gorilla/mux"
	"github.com/hashicorp/go-hclog"
)

// Bounds of the gossip goodbye: at most defaultLeaveTimeout (or half of what Shutdown's context
// leaves), at least minLeaveTimeout (memberlist waits forever on 0).
const (
	defaultLeaveTimeout = 5 * time.Second
	minLeaveTimeout     = 100 * time.Millisecond
)

// Conductor is one cell's conductor: its database, its HTTP API and its gossip membership.
type Conductor struct {
	cfg    Config
	logger hclog.Logger
	db     *DB
	gossip *gossip.Gossip
	router *mux.Router
	srv    *http.Server

	shutdownOnce sync.Once
	shutdownErr  error
}

// New opens the cell database (DataDir/cell.db), registers the configured compute hosts that
// are missing, and starts gossiping (without contacting the pool: see Start).
func New(cfg *Config) (*Conductor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Conductor{cfg: *cfg, logger: cfg.Logger}
	if c.logger == nil {
		c.logger = hclog.NewNullLogger()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("conductor: data dir: %w", err)
	}
	db, err := OpenDB(filepath.Join(cfg.DataDir, dbFileName), c.logger.Named("db"))
	if err != nil {
		return nil, err
	}
	c.db = db
	ctx, cancel := context.WithTimeout(context.Background(), cfg.RequestTimeout)
	defer cancel()
	added, err := db.EnsureHosts(ctx, cfg.Hosts)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("conductor: register hosts: %w", err)
	}
	if added > 0 {
		c.logger.Info("compute hosts registered", "added", added)
	}
	c.gossip, err = gossip.New(&gossip.Config{
		Name:          "conductor/" + cfg.CellUUID + "/" + cfg.Name,
		BindAddr:      cfg.GossipAddr,
		AdvertiseAddr: cfg.GossipAdvertise,
		Join:          cfg.Join,
		Profile:       cfg.GossipProfile,
		Keys:          cfg.GossipKeys,
		KeyFile:       cfg.GossipKeyFile,
		Meta:          api.GossipMeta{Role: api.RoleConductor, CellUUID: cfg.CellUUID, HTTPAddr: cfg.HTTPAddr},
		Logger:        c.logger.Named("gossip"),
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("conductor: %w", err)
	}
	if host, _, _ := net.SplitHostPort(cfg.HTTPAddr); host == "" || net.ParseIP(host).IsUnspecified() {
		c.logger.Warn("the advertised HTTP address has no specific host; the API tier cannot reach it", "http", cfg.HTTPAddr)
	}
	c.router = c.routes()
	c.srv = cfg.Timeouts.Apply(&http.Server{Handler: c.router,
		ErrorLog: c.logger.Named("http").StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true})})
	return c, nil
}

// Handler returns the HTTP API, for tests and embedding.
func (c *Conductor) Handler() http.Handler { return c.router }

// GossipAddr is the gossip address this conductor advertises.
func (c *Conductor) GossipAddr() string { return c.gossip.LocalAddr() }

// Serve serves the HTTP API on ln (over TLS when Config.TLS is set) until Shutdown; it then
// returns nil.
func (c *Conductor) Serve(ln net.Listener) error {
	if c.cfg.TLS != nil {
		ln = tls.NewListener(ln, c.cfg.TLS)
	}
	err := c.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Start joins the gossip pool through the configured members, retrying until one answers or
// ctx ends. Once joined, the API tier sees the cell up.
func (c *Conductor) Start(ctx context.Context) error {
	if err := c.gossip.Join(ctx); err != nil {
		return fmt.Errorf("conductor: %w", err)
	}
	c.logger.Info("joined the gossip pool", "cell", c.cfg.CellUUID, "http", c.cfg.HTTPAddr, "gossip", c.GossipAddr())
	return nil
}

// Shutdown leaves the gossip pool with a goodbye (so the cell's health changes at once rather
// than after failure detection), stops the HTTP API waiting for requests in flight until ctx
// ends, and closes the database. Later calls return the first call's result.
func (c *Conductor) Shutdown(ctx context.Context) error {
	c.shutdownOnce.Do(func() {
		var errs []error
		leave := defaultLeaveTimeout
		if dl, ok := ctx.Deadline(); ok {
			leave = min(leave, time.Until(dl)/2)
		}
		if err := c.gossip.Leave(max(leave, minLeaveTimeout)); err != nil {
			errs = append(errs, fmt.Errorf("gossip leave: %w", err))
		}
		if err := c.srv.Shutdown(ctx); err != nil {
			c.srv.Close()
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		if err := c.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close database: %w", err))
		}
		c.shutdownErr = errors.Join(errs...)
	})
	return c.shutdownErr
}
