package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/cellmap/cellmap/transport"
	"github.com/hashicorp/go-hclog"
)

// serveComputePort serves h, the compute API at the root (compute.Service.RootHandler over the
// node's API handler), on --compute-addr with the API's TLS, as nova-api serves port 8774. It
// returns the function that closes the listener.
func serveComputePort(cfg *serverConfig, h http.Handler, logger hclog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", cfg.opts.computeAddr)
	if err != nil {
		return nil, fmt.Errorf("--compute-addr: listen %s: %w", cfg.opts.computeAddr, err)
	}
	srv := transport.DefaultServerTimeouts().Apply(&http.Server{Handler: h,
		ErrorLog: logger.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true})})
	go func() {
		if err := srv.Serve(transport.TLSListener(ln, cfg.apiTLS())); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("compute listener", "error", err)
		}
	}()
	logger.Info("compute API listener", "addr", ln.Addr().String(), "tls", cfg.tls != nil)
	return func() { srv.Close() }, nil
}
