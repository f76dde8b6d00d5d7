package identity

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
	"github.com/hashicorp/go-hclog"
)

// Store reads and writes the replicated state (a *node.Node).
type Store interface {
	Read(ctx context.Context, c node.Consistency, fn func(r *fsm.Reader) error) (node.ReadInfo, error)
	Apply(ctx context.Context, c fsm.Command) (*fsm.Result, error)
}

// Config configures the identity API.
type Config struct {
	// Prefix is where the API is mounted ("/identity").
	Prefix string
	// ComputePrefix and ImagePrefix are where the catalog's compute and image endpoints are
	// mounted on the same node ("/compute", "/image").
	ComputePrefix, ImagePrefix string
	// ComputePort, when set, is the port of the compute API's own listener (cellmapd
	// --compute-addr): the catalog's compute endpoint is then that port, at the host the
	// client reached this API by, with no prefix ("http://host:8774/v2.1").
	ComputePort string
	// Region names the catalog's region (Keystone's default, "RegionOne").
	Region string
	// TokenTTL is how long an issued token is valid (Keystone's [token]/expiration: an hour).
	TokenTTL time.Duration
	// HashParams are the costs of the dummy hash checked for unknown users, so they take as
	// long as known ones: the costs new users' passwords are hashed with.
	HashParams acl.HashParams
	// MaxConcurrentChecks bounds the password checks running at once (each holds its hash's
	// memory); more wait for their turn or their context.
	MaxConcurrentChecks int
	// Revoked, when set, is called after a token was revoked, with the index of the revoke:
	// it returns once every node refuses the token (cellmapd waits for the auth lease).
	Revoked func(ctx context.Context, index uint64)
	Store   Store
	// Logger is the API's logger; nil discards.
	Logger hclog.Logger
}

// DefaultConfig returns the production settings (Store must be set).
func DefaultConfig() *Config {
	return &Config{Prefix: "/identity", ComputePrefix: "/compute", ImagePrefix: "/image", Region: "RegionOne",
		TokenTTL: time.Hour, HashParams: acl.DefaultHashParams(), MaxConcurrentChecks: 4}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	for _, p := range []string{c.Prefix, c.ComputePrefix, c.ImagePrefix} {
		if p == "" || p[0] != '/' || strings.HasSuffix(p, "/") {
			return errors.New("identity: prefixes must start with / and not end with it")
		}
	}
	if c.ComputePort != "" {
		if p, err := strconv.Atoi(c.ComputePort); err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("identity: ComputePort %q is not a port", c.ComputePort)
		}
	}
	switch {
	case c.Store == nil:
		return errors.New("identity: Store is required")
	case c.Region == "":
		return errors.New("identity: Region is required")
	case c.TokenTTL < time.Minute:
		return errors.New("identity: TokenTTL must be at least a minute")
	case c.MaxConcurrentChecks <= 0:
		return errors.New("identity: MaxConcurrentChecks must be positive")
	}
	return c.HashParams.Validate()
}
