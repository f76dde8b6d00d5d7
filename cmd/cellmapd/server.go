package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/node"
	"github.com/hashicorp/go-hclog"
)

// serverConfig is everything serve needs.
type serverConfig struct {
	opts   *options
	node   *node.Config
	logger hclog.Logger
}

// devCell0Database is where cell0 lives in a cellmap deployment: in the replicated state.
const devCell0Database = "cellmap://replicated-state/cell0"

// serve runs a node and its API until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, cfg *serverConfig, stdout io.Writer) error {
	ln, err := net.Listen("tcp", cfg.opts.httpAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.opts.httpAddr, err)
	}
	n, err := node.New(cfg.node)
	if err != nil {
		ln.Close()
		return err
	}
	acfg := httpapi.DefaultConfig()
	acfg.Addr, acfg.RequestTimeout = cfg.opts.httpAddr, cfg.opts.requestTimeout
	acfg.BaseTransportURL, acfg.BaseDatabaseConnection = cfg.opts.baseTransportURL, cfg.opts.baseDatabaseConnection
	acfg.Logger, acfg.Faults = cfg.logger.Named("http"), cfg.node.Faults
	svc, err := httpapi.New(acfg, n, nil)
	if err != nil {
		ln.Close()
		n.Shutdown(context.Background())
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- svc.Serve(ln) }()
	stopPprof := startPprof(cfg.opts.pprofAddr, cfg.logger)
	defer stopPprof()

	if err := n.Start(ctx); err != nil {
		shutdown(svc, n, cfg.logger)
		return err
	}
	cfg.logger.Info("serving", "node", cfg.opts.nodeID, "http", cfg.opts.httpAddr, "raft", cfg.opts.raftAddr)
	if cfg.opts.dev {
		if err := devSetup(ctx, n, cfg, stdout); err != nil {
			cfg.logger.Error("dev setup failed", "error", err)
		}
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdown(svc, n, cfg.logger)
	return err
}

func shutdown(svc *httpapi.Service, n *node.Node, logger hclog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	logger.Info("shutting down")
	svc.Shutdown(ctx)
	if err := n.Shutdown(ctx); err != nil {
		logger.Warn("node shutdown", "error", err)
	}
}

// devSetup maps cell0 once the single dev node leads, and says what to try.
func devSetup(ctx context.Context, n *node.Node, cfg *serverConfig, stdout io.Writer) error {
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := n.Apply(wctx, &fsm.MapCell0{DatabaseConnection: devCell0Database})
	if err != nil {
		return err
	}
	if res.Err != nil {
		return res.Err
	}
	addr := cfg.opts.httpAddr
	fmt.Fprintf(stdout, `
cellmap is running (single node %q, data in %s, HTTP on %s).

Try:
  export CELLMAP_ADDR=http://%s
  go run ./cmd/cellmapctl cell_v2 list_cells
  go run ./cmd/cellmapctl cell_v2 create_cell --name cell1 --transport-url rabbit://u:p@mq1:5672/ --database_connection mysql://u:p@db1/nova --verbose
  go run ./cmd/cellmapctl cluster status
  curl -s http://%s/v1/cells

Stop with Ctrl-C.
`, cfg.opts.nodeID, cfg.opts.dataDir, addr, addr, addr)
	return nil
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
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			logger.Error("pprof listener", "error", err)
		}
	}()
	logger.Info("pprof debug listener", "addr", addr)
	return func() { srv.Close() }
}
