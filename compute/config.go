package compute

import (
	"context"
	"errors"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
	"github.com/hashicorp/go-hclog"
)

// Store is what the compute API reads and writes of the replicated state (a *node.Node).
type Store interface {
	Read(ctx context.Context, c node.Consistency, fn func(r *fsm.Reader) error) (node.ReadInfo, error)
	Apply(ctx context.Context, c fsm.Command) (*fsm.Result, error)
}

// Servers is the cells data plane's server API (a *cellproxy.Proxy).
type Servers interface {
	CreateServer(ctx context.Context, req api.ServerCreateSpec) (*api.Server, error)
	ShowServer(ctx context.Context, id string) (*api.Server, error)
	ListServers(ctx context.Context, q api.ServerQuery) (*api.ServerList, error)
	DeleteServer(ctx context.Context, id string) error
}

// Hosts reports every cell's compute hosts (a *cellproxy.Proxy).
type Hosts interface {
	ComputeHosts(ctx context.Context) ([]api.CellHosts, error)
}

// Config configures the compute API.
type Config struct {
	// Prefix is where the API is mounted ("/compute"); links are built under it.
	Prefix  string
	Store   Store
	Servers Servers
	Hosts   Hosts
	// Limits reports a project's limits and usage; nil counts usage from the replicated state
	// with nothing limited but metadata (NewStateLimits).
	Limits Limits
	// MaxLimit is Nova's [api]max_limit: the most items one list answers.
	MaxLimit int
	// DefaultAvailabilityZone is the zone of the hosts in no zoned aggregate (Nova's
	// default_availability_zone, cellmapd's --default-availability-zone).
	DefaultAvailabilityZone string
	// Logger is the API's logger; nil discards.
	Logger hclog.Logger
}

// DefaultConfig returns the production settings (Store, Servers and Hosts must be set).
func DefaultConfig() *Config {
	return &Config{Prefix: "/compute", MaxLimit: 1000, DefaultAvailabilityZone: "nova"}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Store == nil || c.Servers == nil || c.Hosts == nil {
		return errors.New("compute: Store, Servers and Hosts are required")
	}
	if c.Prefix == "" || c.Prefix[0] != '/' || c.Prefix[len(c.Prefix)-1] == '/' {
		return errors.New("compute: Prefix must start with / and not end with it")
	}
	if c.MaxLimit <= 0 {
		return errors.New("compute: MaxLimit must be positive")
	}
	if c.DefaultAvailabilityZone == "" || c.DefaultAvailabilityZone == internalZone {
		return errors.New("compute: DefaultAvailabilityZone must be set and not \"internal\"")
	}
	return nil
}
