// Command cellmapd runs one node of a cellmap cluster: the raft-replicated cell, host and
// instance mappings of a cells deployment behind an HTTP API.
//
//	cellmapd --dev                                   # single node, data under ./data, cell0 mapped
//	cellmapd --node-id n1 --data-dir /var/lib/cellmap --bootstrap ...
//	cellmapd --node-id n2 --data-dir ... --join https://10.0.0.1:8480 \
//	    --tls-cert node-n2.pem --tls-key node-n2-key.pem --tls-ca cellmap-ca.pem
//	cellmapd --node-id n1 --data-dir ... --bootstrap --restore-from cellmap.backup   # a new cluster from a backup
//	cellmapd recover --data-dir /var/lib/cellmap --peers n1=10.0.0.1:8481         # quorum lost for good
//
// Every flag is also an environment variable: --node-id is CELLMAP_NODE_ID. With TLS the HTTP
// API is HTTPS (client certificates optional), the raft port mutual TLS between node
// certificates, and conductors are called over mutual TLS; SIGHUP reloads the files. Without
// TLS a listen address beyond loopback is refused unless --insecure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/internal/audit"
	"github.com/cellmap/cellmap/internal/flagenv"
	"github.com/cellmap/cellmap/internal/logflags"
	"github.com/cellmap/cellmap/internal/tlsconf"
	"github.com/cellmap/cellmap/node"
	"github.com/cellmap/cellmap/transport"
	"github.com/cellmap/cellmap/watch"
	"github.com/hashicorp/go-hclog"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, flagenv.LookupEnv))
}

// givenFlags names the flags set on the command line or in the environment.
type givenFlags map[string]bool

// flagsGiven returns the flags of fs that were set (after the environment was applied).
func flagsGiven(fs *flag.FlagSet) givenFlags {
	g := givenFlags{}
	fs.Visit(func(f *flag.Flag) { g[f.Name] = true })
	return g
}

// options are cellmapd's command line.
type options struct {
	nodeID, dataDir, httpAddr, raftAddr, raftAdvertise, gossipAddr string
	join                                                           string
	bootstrap, dev                                                 bool
	baseTransportURL, baseDatabaseConnection                       string
	raftProfile, pprofAddr                                         string
	log                                                            logflags.Flags
	requestTimeout                                                 time.Duration
	faults, pprofAllowRemote                                       bool
	gossipJoin, gossipProfile                                      string
	discoverInterval, listTimeout                                  time.Duration
	devConductorAddr, devConductorGossip                           string
	tls                                                            tlsconf.Flags
	insecure, devTLS, blockCreatesOnDownCell                       bool
	quotaReconcileInterval                                         time.Duration
	quotaReconcileBatch                                            int
	quotaReconcileFix                                              bool
	tokenPurge                                                     node.TokenPurge
	aclBootstrapFile, tokenFile                                    string
	auditLog, baseURLsFile, gossipKeyFile, defaultZone             string
	computeAddr                                                    string
	auditMaxBytes                                                  int64
	auditKeep                                                      int
	backup                                                         backupFlags
	autopilot                                                      autopilotFlags
	raft                                                           raftFlags
	keystone                                                       keystoneFlags
	eventsMax                                                      int
	eventsMaxAge                                                   time.Duration
	watch                                                          watch.Config
	http2MaxStreams                                                int
	gc                                                             gcFlags
}

func parseFlags(args []string, stderr io.Writer, lookup func(string) (string, bool)) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("cellmapd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.nodeID, "node-id", "", "stable id of this node (default: the host name; \"dev\" with --dev)")
	fs.StringVar(&o.dataDir, "data-dir", "", "directory for the raft log, the state and snapshots (./data with --dev)")
	fs.StringVar(&o.httpAddr, "http-addr", "127.0.0.1:8480", "HTTP API listen address (also what peers forward to)")
	fs.StringVar(&o.raftAddr, "raft-addr", "127.0.0.1:8481", "raft listen address")
	fs.StringVar(&o.raftAdvertise, "raft-advertise", "", "raft address peers use (default: --raft-addr)")
	fs.StringVar(&o.gossipAddr, "gossip-addr", "127.0.0.1:8482", "gossip (memberlist) listen address")
	fs.StringVar(&o.gossipJoin, "gossip-join", "", "gossip address(es) of pool members (cellmapd nodes or conductors) to join, comma separated")
	fs.StringVar(&o.gossipKeyFile, "gossip-key-file", "", "file of gossip encryption keys, base64, one per line, the first encrypting (cellmapctl keyring generate; mode 0600)")
	fs.StringVar(&o.gossipProfile, "gossip-profile", "lan", "gossip timings: lan, local or test (fast failure detection)")
	fs.DurationVar(&o.discoverInterval, "discover-hosts-interval", 0, "run discover_hosts on the leader this often (0 disables)")
	fs.DurationVar(&o.listTimeout, "list-timeout", 3*time.Second, "deadline of a cross-cell server listing")
	fs.StringVar(&o.defaultZone, "default-availability-zone", "nova", "the availability zone of hosts in no zoned aggregate (Nova's default_availability_zone)")
	fs.BoolVar(&o.blockCreatesOnDownCell, "block-creates-on-down-cell", false,
		"refuse creates of a project with servers in a down cell (Nova's rule; cellmap counts quota usage itself, so by default they go through)")
	fs.StringVar(&o.computeAddr, "compute-addr", "",
		"also serve the OpenStack compute API at the root of this listener (host:port, as nova-api's 8774; off when empty); /compute on the API port serves it always")
	fs.DurationVar(&o.quotaReconcileInterval, "quota-reconcile-interval", 5*time.Minute,
		"how often (±10 %) the leader compares projects' quota usage with what their cells hold (0 disables)")
	o.tokenPurge = node.DefaultTokenPurge()
	fs.DurationVar(&o.tokenPurge.Interval, "token-purge-interval", o.tokenPurge.Interval,
		"how often the leader deletes expired tokens from the state (0 disables)")
	fs.DurationVar(&o.tokenPurge.Grace, "token-purge-grace", o.tokenPurge.Grace,
		"how long past its expiry a token is kept before the purge deletes it (covers clock skew between nodes)")
	fs.IntVar(&o.quotaReconcileBatch, "quota-reconcile-batch", 100, "the most projects one quota reconciliation round checks")
	fs.BoolVar(&o.quotaReconcileFix, "quota-reconcile-fix", false,
		"replace drifted quota usage with the state's recount (as cellmapctl quota verify --fix); by default drift is only reported")
	fs.StringVar(&o.join, "join", "", "HTTP address(es) of running members to join on first start, comma separated (host:port or http(s)://host:port)")
	fs.BoolVar(&o.bootstrap, "bootstrap", false, "form a new one-node cluster on first start")
	fs.BoolVar(&o.dev, "dev", false, "development mode: single node, data under ./data, cell0 and a local cell1 with simulated hosts")
	fs.StringVar(&o.devConductorAddr, "dev-conductor-addr", "127.0.0.1:8490", "HTTP address of the local cell1 conductor in --dev mode")
	fs.StringVar(&o.devConductorGossip, "dev-conductor-gossip-addr", "127.0.0.1:8492", "gossip address of the local cell1 conductor in --dev mode")
	fs.StringVar(&o.baseTransportURL, "base-transport-url", "", "base URL that fills template transport URLs (?expand=true, and where a cell's conductor is)")
	fs.StringVar(&o.baseURLsFile, "base-urls-file", "", "file with the base URLs (JSON {transport_url, database_connection} or two lines, mode 0600): keeps their passwords off the command line")
	fs.StringVar(&o.baseDatabaseConnection, "base-database-connection", "", "base URL that fills template database URLs (?expand=true, and conductor:// addresses)")
	fs.StringVar(&o.raftProfile, "raft-profile", "lan", "raft timings: lan (production) or test (short timeouts)")
	o.log.Register(fs)
	fs.StringVar(&o.pprofAddr, "pprof-addr", "", "debug listener for net/http/pprof (off when empty; loopback only unless --pprof-allow-remote)")
	fs.BoolVar(&o.pprofAllowRemote, "pprof-allow-remote", false, "let --pprof-addr be a non-loopback address (pprof exposes memory contents)")
	fs.DurationVar(&o.requestTimeout, "request-timeout", 10*time.Second, "upper bound of one API request")
	fs.BoolVar(&o.faults, "enable-fault-injection", false, "serve POST /internal/faults (user-space network faults for the chaos harness; never in production)")
	fs.IntVar(&o.eventsMax, "watch-history-max-events", fsm.DefaultRetention().MaxEvents, "events kept for the change stream (GET /v1/watch); the same on every node")
	fs.IntVar(&o.watch.MaxWatchers, "watch-max-watchers", watch.DefaultConfig().MaxWatchers, "change streams this node serves at once; one more is refused with 503 busy")
	fs.IntVar(&o.watch.Buffer, "watch-buffer", watch.DefaultConfig().Buffer, "matching events a change stream may fall behind before it is cut with slow_consumer")
	fs.IntVar(&o.watch.Ring, "watch-ring", watch.DefaultConfig().Ring, "newest events the node keeps in memory for live change streams (at least --watch-buffer)")
	fs.DurationVar(&o.eventsMaxAge, "watch-history-max-age", fsm.DefaultRetention().MaxAge, "age past which events are dropped from the change stream's history (by the writes' own times); the same on every node")
	fs.IntVar(&o.http2MaxStreams, "http2-max-streams", httpapi.DefaultHTTP2MaxStreams, "requests (change streams included) one HTTP/2 connection to the API may have open at once")
	o.tls.Register(fs)
	o.backup.register(fs)
	o.autopilot.register(fs)
	o.raft.register(fs)
	o.keystone.register(fs)
	o.gc.register(fs)
	fs.BoolVar(&o.insecure, "insecure", false, "allow listening beyond loopback without TLS (logged at WARN on every start)")
	fs.StringVar(&o.aclBootstrapFile, "acl-bootstrap-token-file", "", "file holding the secret of the first admin token: the leader bootstraps the ACL with it on first start (--dev makes one under the data directory)")
	fs.StringVar(&o.tokenFile, "token-file", "", "file holding an admin token this node sends when it joins (default: the bootstrap token; with TLS its node certificate suffices)")
	fs.StringVar(&o.auditLog, "audit-log", "", "audit log file: one JSON line per write and per refused request (off when empty)")
	fs.Int64Var(&o.auditMaxBytes, "audit-log-max-bytes", audit.DefaultConfig().MaxBytes, "rotate the audit log at this size")
	fs.IntVar(&o.auditKeep, "audit-log-keep", audit.DefaultConfig().Keep, "rotated audit log files kept")
	fs.BoolVar(&o.devTLS, "dev-tls", false, "with --dev: serve HTTPS with a CA and certificates generated under <data-dir>/tls/")
	fs.Usage = flagenv.Usage(fs, "CELLMAP_", "usage: cellmapd [flags]")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := flagenv.Apply(fs, "CELLMAP_", lookup); err != nil {
		return nil, err
	}
	o.autopilot.given = flagsGiven(fs)
	o.raft.given = o.autopilot.given
	return o, o.fill()
}

// fill applies dev-mode and host-name defaults.
func (o *options) fill() error {
	if o.dev {
		o.bootstrap = o.join == ""
		if o.nodeID == "" {
			o.nodeID = "dev"
		}
		if o.dataDir == "" {
			o.dataDir = "data"
		}
		if o.discoverInterval == 0 {
			o.discoverInterval = 30 * time.Second
		}
	}
	if o.nodeID == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("--node-id: %w", err)
		}
		o.nodeID = h
	}
	if o.dataDir == "" {
		return errors.New("--data-dir is required (or use --dev)")
	}
	if o.bootstrap && o.join != "" {
		return errors.New("--bootstrap and --join exclude each other")
	}
	if err := o.backup.check(o.bootstrap); err != nil {
		return err
	}
	if o.http2MaxStreams < 1 || o.http2MaxStreams > httpapi.MaxHTTP2MaxStreams {
		return fmt.Errorf("--http2-max-streams must be from 1 to %d", httpapi.MaxHTTP2MaxStreams)
	}
	if err := o.tokenPurge.Validate(); err != nil {
		return fmt.Errorf("--token-purge-interval/--token-purge-grace: %w", err)
	}
	if err := o.gc.check(); err != nil {
		return err
	}
	if err := o.checkAddrs(); err != nil {
		return err
	}
	if err := o.loadBaseURLs(); err != nil {
		return err
	}
	return o.checkDev()
}

// loadBaseURLs fills the base URLs from --base-urls-file; a URL also given as a flag is an error.
func (o *options) loadBaseURLs() error {
	if o.baseURLsFile == "" {
		return nil
	}
	if o.baseTransportURL != "" || o.baseDatabaseConnection != "" {
		return errors.New("--base-urls-file and --base-transport-url/--base-database-connection exclude each other")
	}
	b, err := readBaseURLs(o.baseURLsFile)
	if err != nil {
		return err
	}
	o.baseTransportURL, o.baseDatabaseConnection = b.TransportURL, b.DatabaseConnection
	return nil
}

// checkDev enforces what --dev and --dev-tls promise: loopback only, generated certificates.
func (o *options) checkDev() error {
	if o.devTLS && !o.dev {
		return errors.New("--dev-tls goes with --dev (production nodes take --tls-cert, --tls-key and --tls-ca)")
	}
	if o.devTLS && o.tls.Files().Enabled() {
		return errors.New("--dev-tls generates its certificates; do not combine it with --tls-cert, --tls-key or --tls-ca")
	}
	if !o.dev {
		return nil
	}
	for _, a := range []struct{ flag, addr string }{{"--http-addr", o.httpAddr}, {"--raft-addr", o.raftAddr},
		{"--gossip-addr", o.gossipAddr}, {"--dev-conductor-addr", o.devConductorAddr}, {"--dev-conductor-gossip-addr", o.devConductorGossip}} {
		if !tlsconf.IsLoopback(a.addr) {
			return fmt.Errorf("--dev listens on loopback only: %s %s", a.flag, a.addr)
		}
	}
	return nil
}

// listeners are the node's ports for the secure-by-default check.
func (o *options) listeners() []tlsconf.Listener {
	tlsOn := o.tls.Files().Enabled() || o.devTLS
	ls := []tlsconf.Listener{
		{Name: "HTTP API", Addr: o.httpAddr, Protected: tlsOn, Unprotected: "plain HTTP"},
		{Name: "raft", Addr: o.raftAddr, Protected: tlsOn, Unprotected: "plain TCP"},
		// Gossip leaves loopback only encrypted (--gossip-key-file) or with --insecure.
		{Name: "gossip", Addr: o.gossipAddr, Protected: o.gossipKeyFile != "", Unprotected: "unencrypted gossip"},
	}
	if o.computeAddr != "" {
		ls = append(ls, tlsconf.Listener{Name: "compute API", Addr: o.computeAddr, Protected: tlsOn, Unprotected: "plain HTTP"})
	}
	return ls
}

func run(args []string, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	if len(args) > 0 && args[0] == "recover" {
		return runRecover(args[1:], stderr, lookup)
	}
	o, err := parseFlags(args, stderr, lookup)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "cellmapd:", err)
		return 2
	}
	logger, err := o.log.New("cellmapd", stderr)
	if err != nil {
		fmt.Fprintln(stderr, "cellmapd:", err)
		return 2
	}
	cfg, err := o.serverConfig(logger)
	if err != nil {
		fmt.Fprintln(stderr, "cellmapd:", err)
		return 2
	}
	percent, limit := o.gc.apply(gcRuntime{setPercent: debug.SetGCPercent, setLimit: debug.SetMemoryLimit}, lookup)
	logger.Debug("garbage collector", "gc_percent", percent, "memory_limit", limit, "memory_limit_set", limit != noMemoryLimit)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopHUP := tlsconf.ReloadOnSIGHUP(ctx, logger, cfg.reloaders()...)
	defer stopHUP()
	if err := serve(ctx, cfg, stdout); err != nil {
		logger.Error("stopped", "error", err)
		return 1
	}
	return 0
}

// serverConfig checks the listeners against the secure-by-default rule, loads (with
// --dev-tls: first generates) the TLS files, and builds the node's configuration.
func (o *options) serverConfig(logger hclog.Logger) (*serverConfig, error) {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	ncfg := node.DefaultConfig()
	raftCfg, err := node.RaftProfile(o.raftProfile)
	if err != nil {
		return nil, err
	}
	if err := o.raft.apply(&raftCfg); err != nil {
		return nil, err
	}
	if err := tlsconf.Check(o.listeners(), o.insecure, logger); err != nil {
		return nil, err
	}
	scfg := &serverConfig{opts: o, node: ncfg, logger: logger}
	if o.devTLS {
		if err := scfg.devTLSFiles(); err != nil {
			return nil, err
		}
	}
	if scfg.tls, err = o.tls.Load(); err != nil {
		return nil, err
	}
	if scfg.tls != nil {
		ncfg.TLS = scfg.tls
	}
	ncfg.NodeID, ncfg.DataDir, ncfg.RaftAddr, ncfg.RaftAdvertise = o.nodeID, o.dataDir, o.raftAddr, o.raftAdvertise
	ncfg.HTTPAddr, ncfg.Bootstrap, ncfg.Raft = o.httpAddr, o.bootstrap, raftCfg
	ncfg.EventRetention = fsm.Retention{MaxEvents: o.eventsMax, MaxAge: o.eventsMaxAge}
	ncfg.RestoreFrom = o.backup.restoreFrom
	if ncfg.Autopilot, err = o.autopilot.config(o.raftProfile); err != nil {
		return nil, err
	}
	if scfg.backup, err = o.backup.config(logger.Named("backup")); err != nil {
		return nil, err
	}
	if scfg.keystone, err = o.keystone.validator(logger.Named("keystone")); err != nil {
		return nil, err
	}
	if o.join != "" {
		ncfg.Join = strings.Split(o.join, ",")
	}
	if o.faults {
		ncfg.Faults = transport.NewFaults()
	}
	ncfg.Logger = logger
	if scfg.aclBootstrap, ncfg.Token, scfg.devTokenCreated, err = o.aclSecrets(); err != nil {
		return nil, err
	}
	return scfg, nil
}
