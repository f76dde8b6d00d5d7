// Package tlsconf is what cellmapd and cellconductor share about TLS: the --tls-cert,
// --tls-key and --tls-ca flags, certificate reload on SIGHUP, and the secure-by-default check
// of their listen addresses.
package tlsconf

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cellmap/cellmap/transport"
	"github.com/hashicorp/go-hclog"
)

// ErrExposed: a listener would be reachable from other machines without protection, and
// --insecure was not given.
var ErrExposed = errors.New("refusing to listen beyond loopback without TLS")

// Flags are the TLS flags of a server command.
type Flags struct {
	CertFile, KeyFile, CAFile string
}

// Register defines --tls-cert, --tls-key and --tls-ca on fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.CertFile, "tls-cert", "", "PEM certificate of this process (cellmapctl tls cert create); reloaded on SIGHUP")
	fs.StringVar(&f.KeyFile, "tls-key", "", "PEM private key of --tls-cert; reloaded on SIGHUP")
	fs.StringVar(&f.CAFile, "tls-ca", "", "PEM bundle of the cluster CA that peers' certificates are verified against; reloaded on SIGHUP")
}

// Files returns the files named.
func (f *Flags) Files() transport.TLSFiles {
	return transport.TLSFiles{CertFile: f.CertFile, KeyFile: f.KeyFile, CAFile: f.CAFile}
}

// Load returns the reloader of the files, or nil when none is named.
func (f *Flags) Load() (*transport.TLSReloader, error) {
	files := f.Files()
	if !files.Enabled() {
		return nil, nil
	}
	if err := files.Validate(); err != nil {
		return nil, errors.New("--tls-cert, --tls-key and --tls-ca go together")
	}
	return transport.NewTLSReloader(files)
}

// IsLoopback reports whether a listen address (host:port) binds loopback only: 127.0.0.0/8,
// ::1 or localhost. An empty host, 0.0.0.0, :: and other names bind beyond it.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Listener is one port of a server and whether it is protected.
type Listener struct {
	// Name says what it is ("HTTP API", "raft", "gossip").
	Name string
	Addr string
	// Protected is whether its traffic is authenticated and encrypted.
	Protected bool
	// Unprotected says what it is without protection ("plain HTTP").
	Unprotected string
}

// Open returns, for each unprotected listener, a phrase naming it: all of them when all is
// set, else those beyond loopback.
func Open(ls []Listener, all bool) []string {
	var out []string
	for _, l := range ls {
		if !l.Protected && (all || !IsLoopback(l.Addr)) {
			out = append(out, fmt.Sprintf("%s on %s (%s)", l.Name, l.Addr, l.Unprotected))
		}
	}
	return out
}

// Check is the secure-by-default rule: an unprotected listener beyond loopback is refused
// unless insecure; with insecure, a WARN line names every unprotected listener, on every start.
func Check(ls []Listener, insecure bool, logger hclog.Logger) error {
	if insecure {
		if open := Open(ls, true); len(open) > 0 {
			logger.Warn("--insecure: listening without protection; anyone who reaches these ports can read and change the cluster",
				"open", strings.Join(open, "; "))
		}
		return nil
	}
	if open := Open(ls, false); len(open) > 0 {
		return fmt.Errorf("%w: %s; configure --tls-cert, --tls-key and --tls-ca (cellmapctl tls), listen on 127.0.0.1, or pass --insecure",
			ErrExposed, strings.Join(open, "; "))
	}
	return nil
}

// ReloadOnSIGHUP reloads the files of rs on every SIGHUP until ctx ends (with none it only logs
// that there is nothing to reload). A reload that fails keeps the certificate in use. The
// returned function stops listening for the signal.
func ReloadOnSIGHUP(ctx context.Context, logger hclog.Logger, rs ...*transport.TLSReloader) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if len(rs) == 0 {
					logger.Info("SIGHUP: TLS is not configured; nothing to reload")
				}
				for _, r := range rs {
					Reload(r, logger)
				}
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
		<-done
	}
}

// Reload reloads r's files and logs the outcome.
func Reload(r *transport.TLSReloader, logger hclog.Logger) {
	if err := r.Reload(); err != nil {
		logger.Error("SIGHUP: TLS reload failed; the previous certificate stays in use", "error", err)
		return
	}
	c := r.Certificate()
	logger.Info("SIGHUP: TLS certificate, key and CA reloaded; new connections use them",
		"identity", r.Identity().String(), "serial", c.SerialNumber.Text(16), "not_after", c.NotAfter)
}
