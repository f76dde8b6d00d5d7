package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/backup"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/compute"
	"github.com/cellmap/cellmap/gossip"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/identity"
	"github.com/cellmap/cellmap/imageapi"
	"github.com/cellmap/cellmap/internal/audit"
	"github.com/cellmap/cellmap/keystone"
	"github.com/cellmap/cellmap/metrics"
	"github.com/cellmap/cellmap/node"
	"github.com/cellmap/cellmap/transport"
	"github.com/hashicorp/go-hclog"
)

// serverConfig is everything serve needs.
type serverConfig struct {
	opts   *options
	node   *node.Config
	logger hclog.Logger
	// tls holds this node's certificate (nil without TLS); devConductorTLS the embedded cell1
	// conductor's (--dev-tls only).
	tls, devConductorTLS *transport.TLSReloader
	// aclBootstrap is the secret the leader bootstraps the ACL with ("" none); devTokenCreated
	// says --dev made it on this start.
	aclBootstrap    string
	devTokenCreated bool
	// backup configures the periodic backups (nil: off).
	backup *backup.Config
	// keystone validates Keystone tokens (nil: cellmap's own tokens only).
	keystone *keystone.Validator
}

// reloaders are the TLS files SIGHUP reloads.
func (cfg *serverConfig) reloaders() []*transport.TLSReloader {
	var rs []*transport.TLSReloader
	for _, r := range []*transport.TLSReloader{cfg.tls, cfg.devConductorTLS} {
		if r != nil {
			rs = append(rs, r)
		}
	}
	return rs
}

// apiTLS is the HTTP API's listener configuration: HTTPS (HTTP/2 or HTTP/1.1 by ALPN), a
// client certificate optional and verified against the cluster CA when presented (nil
// without TLS).
func (cfg *serverConfig) apiTLS() *tls.Config {
	if cfg.tls == nil {
		return nil
	}
	return transport.WithHTTP2(cfg.tls.ServerConfig(tls.VerifyClientCertIfGiven, nil))
}

// serve runs a node, its data plane and its API until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, cfg *serverConfig, stdout io.Writer) error {
	ln, err := net.Listen("tcp", cfg.opts.httpAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.opts.httpAddr, err)
	}
	mreg := metrics.New()
	cfg.node.ApplyObserver = mreg.ObserveApply
	n, err := node.New(cfg.node)
	if err != nil {
		ln.Close()
		return err
	}
	r := &running{node: n, logger: cfg.logger, metrics: mreg, dataDir: cfg.opts.dataDir}
	defer r.shutdown()
	if cfg.backup != nil {
		if r.backups, err = backup.NewPeriodic(cfg.backup, n); err != nil {
			ln.Close()
			return err
		}
	}
	if err := r.startDataPlane(cfg); err != nil {
		ln.Close()
		return err
	}
	acfg := httpapi.DefaultConfig()
	acfg.Addr, acfg.RequestTimeout = cfg.opts.httpAddr, cfg.opts.requestTimeout
	acfg.BaseTransportURL, acfg.BaseDatabaseConnection = cfg.opts.baseTransportURL, cfg.opts.baseDatabaseConnection
	acfg.Logger, acfg.Faults = cfg.logger.Named("http"), cfg.node.Faults
	acfg.Servers, acfg.CellOps, acfg.Guard = r.proxy, r.proxy, r.proxy
	if cfg.tls != nil {
		acfg.Certificate = cfg.tls.Certificate
	}
	acfg.Revoked = func(ctx context.Context, index uint64, lease time.Duration) {
		if missing := n.WaitAppliedEverywhere(ctx, index, lease); len(missing) > 0 {
			cfg.logger.Warn("token revoke: these nodes did not confirm within the auth lease; they refuse every token until back in contact",
				"nodes", missing, "lease", lease)
		}
	}
	if cfg.opts.auditLog != "" {
		al, err := audit.Open(&audit.Config{Path: cfg.opts.auditLog, MaxBytes: cfg.opts.auditMaxBytes, Keep: cfg.opts.auditKeep})
		if err != nil {
			ln.Close()
			return err
		}
		acfg.Audit = al
		r.extra = append(r.extra, func() { al.Close() }) // after the API stopped

	}
	acfg.Operator, acfg.Keyring, acfg.DefaultAvailabilityZone = n, r.gossip, cfg.opts.defaultZone
	acfg.Metrics, acfg.MetricsClientCerts, acfg.Routes = mreg.Handler(), true, mreg
	r.setMetricSources()
	acfg.Autopilot = n
	if cfg.keystone != nil {
		acfg.ExternalTokens = cfg.keystone
	}
	acfg.Watch = cfg.opts.watch
	acfg.HTTP2MaxStreams = cfg.opts.http2MaxStreams
	ccfg := compute.DefaultConfig()
	ccfg.Store, ccfg.Servers, ccfg.Hosts, ccfg.Logger = n, r.proxy, r.proxy, cfg.logger.Named("compute")
	ccfg.DefaultAvailabilityZone = cfg.opts.defaultZone
	osc, err := compute.New(ccfg)
	if err != nil {
		ln.Close()
		return err
	}
	icfg := imageapi.DefaultConfig()
	icfg.Store = n
	images, err := imageapi.New(icfg)
	if err != nil {
		ln.Close()
		return err
	}
	idcfg := identity.DefaultConfig()
	idcfg.Store, idcfg.Logger = n, cfg.logger.Named("identity")
	// The catalog names the compute listener (checked host:port at startup); with port 0,
	// chosen when listening, it names /compute on this port instead.
	if _, port, err := net.SplitHostPort(cfg.opts.computeAddr); err == nil && port != "0" {
		idcfg.ComputePort = port
	}
	idcfg.Revoked = func(ctx context.Context, index uint64) { acfg.Revoked(ctx, index, acfg.AuthLease) }
	ident, err := identity.New(idcfg)
	if err != nil {
		ln.Close()
		return err
	}
	acfg.Mounts = append(acfg.Mounts, osc.Mount(), images.Mount(), ident.Mount())
	if r.api, err = httpapi.New(acfg, n, r.proxy.Registry()); err != nil {
		ln.Close()
		return err
	}
	if cfg.opts.computeAddr != "" {
		stop, err := serveComputePort(cfg, osc.RootHandler(r.api.Handler()), cfg.logger.Named("compute"))
		if err != nil {
			ln.Close()
			return err
		}
		r.extra = append(r.extra, stop)
	}
	errc := make(chan error, 1)
	go func() { errc <- r.api.Serve(transport.TLSListener(ln, cfg.apiTLS())) }()
	stopPprof := startPprof(cfg.opts.pprofAddr, cfg.logger)
	defer stopPprof()

	if err := n.Start(ctx); err != nil {
		return err
	}
	r.runDuties(ctx, cfg.aclBootstrap, cfg.opts.tokenPurge)
	cfg.logger.Info("serving", "node", cfg.opts.nodeID, "http", cfg.opts.httpAddr, "raft", cfg.opts.raftAddr, "gossip", cfg.opts.gossipAddr,
		"tls", cfg.tls != nil)
	if cfg.opts.dev {
		if err := devSetup(ctx, r, cfg, stdout); err != nil {
			cfg.logger.Error("dev setup failed", "error", err)
		}
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	return err
}

// running holds what serve started, to stop it in order.
type running struct {
	node   *node.Node
	api    *httpapi.Service
	proxy  *cellproxy.Proxy
	gossip *gossip.Gossip
	// backups writes the periodic backups while this node leads (nil: off); its Status is
	// the last success and the last failure.
	backups *backup.Periodic
	metrics *metrics.Registry
	dataDir string
	extra   []func()
	wg      sync.WaitGroup
	stop    context.CancelFunc
	logger  hclog.Logger
}

// startDataPlane joins the gossip pool and builds the cells data plane.
func (r *running) startDataPlane(cfg *serverConfig) error {
	pcfg := cellproxy.DefaultConfig()
	pcfg.ListTimeout, pcfg.DiscoverInterval, pcfg.Logger = cfg.opts.listTimeout, cfg.opts.discoverInterval, cfg.logger.Named("proxy")
	pcfg.BaseTransportURL, pcfg.BaseDatabaseConnection = cfg.opts.baseTransportURL, cfg.opts.baseDatabaseConnection
	pcfg.BlockCreatesOnDownCell, pcfg.DefaultAvailabilityZone = cfg.opts.blockCreatesOnDownCell, cfg.opts.defaultZone
	pcfg.QuotaReconcileInterval, pcfg.QuotaReconcileBatch = cfg.opts.quotaReconcileInterval, cfg.opts.quotaReconcileBatch
	pcfg.QuotaReconcileFix = cfg.opts.quotaReconcileFix
	pcfg.Observer = r.metrics
	if cfg.tls != nil {
		pcfg.TLS = cfg.tls
	}
	registry := cellproxy.NewRegistry(pcfg.FailureCooldown, nil)
	var err error
	if r.proxy, err = cellproxy.New(pcfg, r.node, registry); err != nil {
		return err
	}
	gcfg := &gossip.Config{Name: serverGossipName(cfg.opts.nodeID), BindAddr: cfg.opts.gossipAddr, Profile: cfg.opts.gossipProfile,
		Meta:    api.GossipMeta{Role: api.RoleServer, NodeID: cfg.opts.nodeID, HTTPAddr: cfg.opts.httpAddr},
		Handler: registry, Logger: cfg.logger.Named("gossip")}
	if cfg.opts.gossipJoin != "" {
		gcfg.Join = strings.Split(cfg.opts.gossipJoin, ",")
	}
	if cfg.opts.gossipKeyFile != "" {
		gcfg.KeyFile = cfg.opts.gossipKeyFile // keyring changes through the pool are written back
		if gcfg.Keys, err = gossip.ReadKeyFile(cfg.opts.gossipKeyFile); err != nil {
			return fmt.Errorf("--gossip-key-file: %w", err)
		}
	}
	r.gossip, err = gossip.New(gcfg)
	return err
}

// runDuties joins the gossip pool in the background and starts the leader-only duties.
func (r *running) runDuties(ctx context.Context, aclSecret string, purge node.TokenPurge) {
	dctx, cancel := context.WithCancel(ctx)
	r.stop = cancel
	r.wg.Add(5)
	go func() {
		defer r.wg.Done()
		if err := r.gossip.Join(dctx); err != nil && dctx.Err() == nil {
			r.logger.Error("gossip join", "error", err)
		}
	}()
	go func() { defer r.wg.Done(); r.node.RunAsLeader(dctx, r.proxy.DiscoverPeriodically) }()
	go func() { defer r.wg.Done(); r.node.RunAsLeader(dctx, r.proxy.RescheduleLoop) }()
	go func() { defer r.wg.Done(); r.node.RunAsLeader(dctx, r.proxy.RetryDeletesLoop) }()
	go func() { defer r.wg.Done(); r.node.RunAsLeader(dctx, r.proxy.ReconcileQuotasLoop) }()
	r.wg.Add(2)
	go func() { defer r.wg.Done(); r.node.RunAsLeader(dctx, r.node.PurgeTokens(purge)) }()
	go func() { defer r.wg.Done(); r.node.RunAutopilot(dctx, gossipServers{r.gossip}) }()
	if aclSecret != "" {
		r.wg.Add(1)
		go func() { defer r.wg.Done(); r.node.RunAsLeader(dctx, bootstrapACL(r.logger, r.node, aclSecret)) }()
	}
	if r.backups != nil {
		r.wg.Add(1)
		go func() { defer r.wg.Done(); r.node.RunAsLeader(dctx, r.backups.Run) }()
	}
}

// shutdown stops everything in reverse order: API, duties, data plane, gossip, node.
func (r *running) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.logger.Info("shutting down")
	if r.api != nil {
		r.api.Shutdown(ctx)
	}
	if r.stop != nil {
		r.stop()
	}
	r.wg.Wait()
	for i := len(r.extra) - 1; i >= 0; i-- {
		r.extra[i]()
	}
	if r.proxy != nil {
		r.proxy.Close()
	}
	if r.gossip != nil {
		r.gossip.Leave(2 * time.Second)
	}
	if err := r.node.Shutdown(ctx); err != nil {
		r.logger.Warn("node shutdown", "error", err)
	}
}

// startPprof serves net/http/pprof on addr when set; it returns a stop function.
func startPprof(addr string, logger hclog.Logger) func() {
	if addr == "" {
		return func() {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// Profiles and traces stream for their ?seconds= (30 s by default): a longer write bound.
	t := transport.DefaultServerTimeouts()
	t.Write = 10 * time.Minute
	srv := t.Apply(&http.Server{Addr: addr, Handler: mux})
	go func() {
		if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			logger.Error("pprof listener", "error", err)
		}
	}()
	logger.Info("pprof debug listener", "addr", addr)
	return func() { srv.Close() }
}

// setMetricSources points the scrape-time metrics at the node, the data plane, the gossip pool
// and the periodic backups (when on).
func (r *running) setMetricSources() {
	src := metrics.Sources{Raft: r.node, State: r.node, Cells: r.proxy, Gossip: r.gossip, DataDir: r.dataDir}
	if r.backups != nil {
		src.Backups = r.backups
	}
	r.metrics.SetSources(src)
}
