// Command cellconductor runs cellmap's reference conductor of one cell: it owns the cell's
// database (instances and simulated compute hosts), serves the cell conductor API that the API
// tier's cellproxy calls, and joins the gossip pool advertising its cell.
//
//	cellconductor --cell-uuid 4f1c...-... --data-dir /var/lib/cellconductor \
//	    --http-addr 10.0.1.5:8490 --gossip-addr 10.0.1.5:8492 --join 10.0.0.1:8482 \
//	    --hosts cmp1:16:65536:500,cmp2:16:65536:500 \
//	    --tls-cert cell-4f1c....pem --tls-key cell-4f1c...-key.pem --tls-ca cellmap-ca.pem
//
// With TLS (cellmapctl tls cert create --cell UUID) the HTTP API is mutual TLS: only the API
// tier's node certificates of the cluster CA are accepted. SIGHUP reloads the files. Without
// TLS, a listen address beyond loopback is refused unless --insecure.
//
// Every flag is also an environment variable: --cell-uuid is CELLCONDUCTOR_CELL_UUID. A bad
// flag exits 2; a failure while running exits 1.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cellmap/cellmap/conductor"
	"github.com/cellmap/cellmap/gossip"
	"github.com/cellmap/cellmap/internal/flagenv"
	"github.com/cellmap/cellmap/internal/logflags"
	"github.com/cellmap/cellmap/internal/tlsconf"
	"github.com/cellmap/cellmap/transport"
	"github.com/hashicorp/go-hclog"
)

// envPrefix prefixes the environment variable of every flag.
const envPrefix = "CELLCONDUCTOR_"

func main() {
	os.Exit(run(os.Args[1:], os.Stderr, flagenv.LookupEnv))
}

// options are cellconductor's command line.
type options struct {
	cellUUID, dataDir, httpAddr, gossipAddr, gossipAdvertise string
	join, hosts, gossipProfile, name                         string
	log                                                      logflags.Flags
	gossipKeyFile                                            string
	requestTimeout                                           time.Duration
	tls                                                      tlsconf.Flags
	insecure                                                 bool

	// reloader holds the TLS files once config loaded them (nil without TLS).
	reloader *transport.TLSReloader
}

func parseFlags(args []string, stderr io.Writer, lookup func(string) (string, bool)) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("cellconductor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.cellUUID, "cell-uuid", "", "uuid of the cell this conductor owns (required)")
	fs.StringVar(&o.dataDir, "data-dir", "", "directory of the cell database (required)")
	fs.StringVar(&o.httpAddr, "http-addr", "127.0.0.1:8490", "HTTP API listen address, advertised to the pool (port 0: any, advertised as bound)")
	fs.StringVar(&o.gossipAddr, "gossip-addr", "127.0.0.1:8492", "gossip (memberlist) listen address")
	fs.StringVar(&o.gossipAdvertise, "gossip-advertise", "", "gossip address other members use (default: --gossip-addr)")
	fs.StringVar(&o.join, "join", "", "gossip address(es) of the pool to join, comma separated (required)")
	fs.StringVar(&o.hosts, "hosts", "", "compute hosts to register when missing: name:vcpus:ram_mb:disk_gb,...")
	fs.StringVar(&o.gossipProfile, "gossip-profile", "lan", "gossip timings: lan, local or test")
	fs.StringVar(&o.gossipKeyFile, "gossip-key-file", "", "file of gossip encryption keys, base64, one per line, the first encrypting (cellmapctl keyring generate; mode 0600)")
	fs.StringVar(&o.name, "name", "", "name of this conductor within its cell (default: the host name)")
	o.log.Register(fs)
	fs.DurationVar(&o.requestTimeout, "request-timeout", 10*time.Second, "upper bound of one API request")
	o.tls.Register(fs)
	fs.BoolVar(&o.insecure, "insecure", false, "allow listening beyond loopback without TLS (logged at WARN on every start)")
	fs.Usage = flagenv.Usage(fs, envPrefix, "usage: cellconductor --cell-uuid UUID --data-dir DIR --join GOSSIP_ADDR [flags]")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := flagenv.Apply(fs, envPrefix, lookup); err != nil {
		return nil, err
	}
	return o, nil
}

// listeners are the conductor's ports for the secure-by-default check.
func (o *options) listeners() []tlsconf.Listener {
	tlsOn := o.tls.Files().Enabled()
	return []tlsconf.Listener{
		{Name: "HTTP API", Addr: o.httpAddr, Protected: tlsOn, Unprotected: "plain HTTP"},
		// Gossip leaves loopback only encrypted (--gossip-key-file) or with --insecure.
		{Name: "gossip", Addr: o.gossipAddr, Protected: o.gossipKeyFile != "", Unprotected: "unencrypted gossip"},
	}
}

// config turns the options into the conductor's configuration and checks it; it loads the TLS
// files (o.reloader) and applies the secure-by-default rule.
func (o *options) config(logger hclog.Logger) (*conductor.Config, error) {
	if o.join == "" {
		return nil, errors.New("--join is required: the gossip address of a member of the pool")
	}
	if err := tlsconf.Check(o.listeners(), o.insecure, logger); err != nil {
		return nil, err
	}
	var err error
	if o.reloader, err = o.tls.Load(); err != nil {
		return nil, err
	}
	hosts, err := conductor.ParseHosts(o.hosts)
	if err != nil {
		return nil, fmt.Errorf("--hosts: %w", err)
	}
	cfg := conductor.DefaultConfig()
	if o.gossipKeyFile != "" {
		cfg.GossipKeyFile = o.gossipKeyFile
		if cfg.GossipKeys, err = gossip.ReadKeyFile(o.gossipKeyFile); err != nil {
			return nil, fmt.Errorf("--gossip-key-file: %w", err)
		}
	}
	cfg.CellUUID, cfg.DataDir, cfg.HTTPAddr = o.cellUUID, o.dataDir, o.httpAddr
	cfg.GossipAddr, cfg.GossipAdvertise, cfg.GossipProfile = o.gossipAddr, o.gossipAdvertise, o.gossipProfile
	cfg.Join, cfg.Hosts, cfg.RequestTimeout, cfg.Logger = splitList(o.join), hosts, o.requestTimeout, logger
	if o.name != "" {
		cfg.Name = o.name
	}
	if o.reloader != nil {
		// Only the API tier calls a conductor: node certificates of the cluster CA.
		cfg.TLS = o.reloader.ServerConfig(tls.RequireAndVerifyClientCert, transport.RequireKind(transport.KindNode))
	}
	return cfg, cfg.Validate()
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func run(args []string, stderr io.Writer, lookup func(string) (string, bool)) int {
	o, err := parseFlags(args, stderr, lookup)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "cellconductor:", err)
		return 2
	}
	logger, err := o.log.New("cellconductor", stderr)
	if err != nil {
		fmt.Fprintln(stderr, "cellconductor:", err)
		return 2
	}
	cfg, err := o.config(logger)
	if err != nil {
		fmt.Fprintln(stderr, "cellconductor:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var reload []*transport.TLSReloader
	if o.reloader != nil {
		reload = append(reload, o.reloader)
	}
	stopHUP := tlsconf.ReloadOnSIGHUP(ctx, logger, reload...)
	defer stopHUP()
	if err := serve(ctx, cfg); err != nil {
		logger.Error("stopped", "error", err)
		return 1
	}
	return 0
}

// serve runs a conductor until ctx ends, then shuts it down gracefully: HTTP first, then the
// gossip pool is joined (retrying until it answers).
func serve(ctx context.Context, cfg *conductor.Config) error {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.HTTPAddr, err)
	}
	if _, port, _ := net.SplitHostPort(cfg.HTTPAddr); port == "0" {
		cfg.HTTPAddr = ln.Addr().String()
	}
	c, err := conductor.New(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- c.Serve(ln) }()
	go func() {
		if err := c.Start(ctx); err != nil && ctx.Err() == nil {
			cfg.Logger.Error("gossip", "error", err)
		}
	}()
	cfg.Logger.Info("serving", "cell", cfg.CellUUID, "http", cfg.HTTPAddr, "gossip", c.GossipAddr(), "tls", cfg.TLS != nil)
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg.Logger.Info("shutting down")
	if serr := c.Shutdown(sctx); serr != nil {
		cfg.Logger.Warn("shutdown", "error", serr)
	}
	return err
}
