package client

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/hashicorp/go-hclog"
)

// CacheKinds are the kinds of records a Cache can hold.
var cacheKinds = []string{api.KindInstanceMappings, api.KindHostMappings, api.KindCells, api.KindFlavors}

// CacheConfig configures a Cache.
type CacheConfig struct {
	// Endpoints are the nodes the cache lists and watches from ("host:port" or URLs); it
	// moves to the next one when a node fails. Give several.
	Endpoints []string
	// TLS, HTTP2, HTTP and Token are used as in Config for every endpoint.
	TLS   *tls.Config
	HTTP2 bool
	HTTP  *http.Client
	Token string
	// Clients, when set, are the nodes instead of Endpoints (which, with TLS, HTTP and Token,
	// is then ignored): clients made elsewhere, each with its own connection settings and
	// token.
	Clients []*Client
	// Kinds are the kinds of records to keep (default: instance mappings only).
	Kinds []string
	// ProjectID keeps only that project's instance mappings (Kinds must then be instance
	// mappings only); CellUUID keeps only the cell, its host and instance mappings (no
	// flavors).
	ProjectID string
	CellUUID  string
	// MaxStaleness is how far behind the cluster the cache may be before Lookup and the other
	// reads return ErrStale (with the answer they have), and before the cache leaves the node
	// it watches for another one.
	MaxStaleness time.Duration
	// ProgressInterval is how often the node is asked to send a progress line when nothing
	// changes; ProbeInterval how often the cache asks its node for a linearizable index to
	// bound its staleness. Both well below MaxStaleness.
	ProgressInterval time.Duration
	ProbeInterval    time.Duration
	// RequestTimeout bounds each listing page and probe.
	RequestTimeout time.Duration
	// PageSize is the page size of the instance mapping listing (at most 10000).
	PageSize int
	// MinBackoff and MaxBackoff bound the wait after every endpoint failed in a row.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives the cache's reconnects and relists (nil: none).
	Logger hclog.Logger
}

// DefaultCacheConfig returns a configuration for a node on this machine that keeps instance
// mappings and tolerates 10 seconds of staleness.
func DefaultCacheConfig() *CacheConfig {
	return &CacheConfig{
		Endpoints:        []string{"127.0.0.1:8480"},
		Kinds:            []string{api.KindInstanceMappings},
		MaxStaleness:     10 * time.Second,
		ProgressInterval: time.Second,
		ProbeInterval:    2 * time.Second,
		RequestTimeout:   10 * time.Second,
		PageSize:         1000,
		MinBackoff:       100 * time.Millisecond,
		MaxBackoff:       5 * time.Second,
	}
}

// Validate checks the configuration.
func (c *CacheConfig) Validate() error {
	if len(c.Endpoints) == 0 && len(c.Clients) == 0 {
		return errors.New("client: CacheConfig.Endpoints needs at least one node")
	}
	for _, e := range c.Endpoints {
		if len(c.Clients) > 0 {
			break
		}
		cfg := Config{Addr: e, TLS: c.TLS, HTTP: c.HTTP}
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("client: CacheConfig.Endpoints: %w", err)
		}
	}
	if len(c.Kinds) == 0 {
		return errors.New("client: CacheConfig.Kinds needs at least one kind")
	}
	for _, k := range c.Kinds {
		if !slices.Contains(cacheKinds, k) {
			return fmt.Errorf("client: CacheConfig.Kinds: unknown kind %q (known: %v)", k, cacheKinds)
		}
	}
	if c.ProjectID != "" && (len(c.Kinds) != 1 || c.Kinds[0] != api.KindInstanceMappings) {
		return errors.New("client: CacheConfig.ProjectID keeps instance mappings only: set Kinds to [instance_mappings]")
	}
	if c.CellUUID != "" && slices.Contains(c.Kinds, api.KindFlavors) {
		return errors.New("client: CacheConfig.CellUUID: flavors belong to no cell, remove them from Kinds")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"MaxStaleness", c.MaxStaleness}, {"ProgressInterval", c.ProgressInterval}, {"ProbeInterval", c.ProbeInterval},
		{"RequestTimeout", c.RequestTimeout}, {"MinBackoff", c.MinBackoff}, {"MaxBackoff", c.MaxBackoff}} {
		if d.v <= 0 {
			return fmt.Errorf("client: CacheConfig.%s must be positive", d.name)
		}
	}
	if c.ProgressInterval < 10*time.Millisecond || c.ProgressInterval > 10*time.Minute {
		return errors.New("client: CacheConfig.ProgressInterval must be from 10ms to 10m (what the server accepts)")
	}
	if c.ProgressInterval >= c.MaxStaleness || c.ProbeInterval >= c.MaxStaleness {
		return errors.New("client: CacheConfig.ProgressInterval and ProbeInterval must be below MaxStaleness")
	}
	if c.MinBackoff > c.MaxBackoff {
		return errors.New("client: CacheConfig.MinBackoff must not exceed MaxBackoff")
	}
	if c.PageSize < 1 || c.PageSize > 10000 {
		return errors.New("client: CacheConfig.PageSize must be from 1 to 10000")
	}
	return nil
}
