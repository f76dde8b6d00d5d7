package conductor

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/gossip"
	"github.com/cellmap/cellmap/transport"
	"github.com/hashicorp/go-hclog"
)

// Config configures a conductor: one process, one cell.
type Config struct {
	// CellUUID is the cell this conductor owns, a canonical lower-case uuid.
	CellUUID string
	// DataDir holds the cell database (cell.db).
	DataDir string
	// HTTPAddr is the host:port of the HTTP API as the API tier reaches it; it is advertised in
	// the gossip metadata. Serve takes the listener, so this is not a bind address for New.
	HTTPAddr string
	// GossipAddr is the gossip (memberlist) bind address, UDP and TCP; GossipAdvertise, when
	// set, is the address other members use instead.
	GossipAddr      string
	GossipAdvertise string
	// Join lists gossip addresses of pool members to contact on Start. Empty means this
	// conductor starts a pool of its own (useful only in tests).
	Join []string
	// GossipProfile names the gossip timings: "lan", "local" or "test".
	GossipProfile string
	// GossipKeys, when set, encrypt the gossip (gossip.Config.Keys): the first is the primary.
	GossipKeys [][]byte
	// GossipKeyFile, when set, is where GossipKeys came from: keyring changes made through the
	// pool are written back to it (gossip.Config.KeyFile), so a restart keeps them.
	GossipKeyFile string
	// Name tells this conductor apart from others of the same cell; the gossip member name is
	// "conductor/<cell-uuid>/<name>".
	Name string
	// Hosts are compute hosts registered at start when not present yet. Hosts already in the
	// database keep their used amounts and mapped flag; their capacity is set to this one.
	Hosts []api.ComputeHostCreate
	// RequestTimeout bounds each HTTP request.
	RequestTimeout time.Duration
	// Timeouts bound how long the HTTP server waits for a client (DefaultServerTimeouts).
	Timeouts transport.ServerTimeouts
	// TLS, when set, makes Serve speak TLS with it: mutual TLS where only the API tier's node
	// certificates are accepted (see cmd/cellconductor). nil serves plain HTTP.
	TLS *tls.Config
	// Logger is the root logger; nil discards.
	Logger hclog.Logger
}

// DefaultConfig returns the defaults; CellUUID and DataDir are left to fill.
func DefaultConfig() *Config {
	name, err := os.Hostname()
	if err != nil || name == "" {
		name = "conductor"
	}
	return &Config{
		HTTPAddr:       "127.0.0.1:8490",
		GossipAddr:     "127.0.0.1:8492",
		GossipProfile:  "lan",
		Name:           name,
		RequestTimeout: 10 * time.Second,
		Timeouts:       transport.DefaultServerTimeouts(),
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if u, err := validate.UUID("cell uuid", c.CellUUID); err != nil || u != c.CellUUID {
		return fmt.Errorf("conductor: cell uuid %q is not a canonical (lower-case) uuid", c.CellUUID)
	}
	if c.DataDir == "" {
		return errors.New("conductor: DataDir is required")
	}
	if err := checkAddr("HTTPAddr", c.HTTPAddr, true); err != nil {
		return err
	}
	if err := checkAddr("GossipAddr", c.GossipAddr, true); err != nil {
		return err
	}
	if err := checkAddr("GossipAdvertise", c.GossipAdvertise, false); err != nil {
		return err
	}
	for _, j := range c.Join {
		if err := checkAddr("Join", j, true); err != nil {
			return err
		}
	}
	if _, err := gossip.Profile(c.GossipProfile); err != nil {
		return fmt.Errorf("conductor: %w", err)
	}
	if err := validate.Name("Name", c.Name, true); err != nil || strings.Contains(c.Name, "/") {
		return fmt.Errorf("conductor: Name %q must be 1..%d printable characters without '/'", c.Name, validate.MaxNameLen)
	}
	if c.RequestTimeout <= 0 {
		return errors.New("conductor: RequestTimeout must be positive")
	}
	if err := c.Timeouts.Validate(); err != nil {
		return fmt.Errorf("conductor: %w", err)
	}
	seen := make(map[string]bool, len(c.Hosts))
	for _, h := range c.Hosts {
		if err := checkHost(h); err != nil {
			return fmt.Errorf("conductor: host %q: %w", h.Name, err)
		}
		if seen[h.Name] {
			return fmt.Errorf("conductor: host %q is listed twice", h.Name)
		}
		seen[h.Name] = true
	}
	return nil
}

func checkAddr(field, addr string, required bool) error {
	if addr == "" && !required {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("conductor: %s %q: %w", field, addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("conductor: %s %q: bad port", field, addr)
	}
	return nil
}

// ParseHosts parses the --hosts syntax: "name:vcpus:ram_mb:disk_gb" items separated by
// commas. An empty string is no hosts.
func ParseHosts(spec string) ([]api.ComputeHostCreate, error) {
	var out []api.ComputeHostCreate
	seen := map[string]bool{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, ":")
		if len(parts) != 4 {
			return nil, fmt.Errorf("host %q: want name:vcpus:ram_mb:disk_gb", item)
		}
		h := api.ComputeHostCreate{Name: parts[0]}
		for i, dst := range []*int64{&h.VCPUs, &h.RAMMB, &h.DiskGB} {
			n, err := strconv.ParseInt(parts[i+1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("host %q: %q is not an integer", item, parts[i+1])
			}
			*dst = n
		}
		if err := checkHost(h); err != nil {
			return nil, fmt.Errorf("host %q: %w", item, err)
		}
		if seen[h.Name] {
			return nil, fmt.Errorf("host %q is listed twice", h.Name)
		}
		seen[h.Name] = true
		out = append(out, h)
	}
	return out, nil
}
