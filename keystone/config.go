// Package keystone validates OpenStack Keystone tokens for cellmap's API, as
// keystonemiddleware does for Nova: a token cellmap does not know as its own is checked with
// Keystone v3 (GET /v3/auth/tokens, authenticated with a service token of cellmap's own), the
// answer is cached for a bounded time, and Keystone's roles become cellmap roles.
package keystone

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
)

// ErrInvalidConfig: the configuration cannot work.
var ErrInvalidConfig = errors.New("keystone: invalid configuration")

// Credentials are the service user cellmap authenticates as (password auth, project scope).
type Credentials struct {
	Username          string `json:"username"`
	Password          string `json:"password"`
	ProjectName       string `json:"project_name"`
	UserDomainName    string `json:"user_domain_name"`
	ProjectDomainName string `json:"project_domain_name"`
}

// Config configures a Validator.
type Config struct {
	// URL is Keystone's identity endpoint, with or without /v3.
	URL     string
	Service Credentials
	// CacheTTL bounds how long a validation (valid or not) is reused: a revoked token is
	// honoured for at most this long (keystonemiddleware's token_cache_time).
	CacheTTL time.Duration
	// CacheMax bounds the cached validations.
	CacheMax int
	// Timeout bounds one call to Keystone.
	Timeout time.Duration
	Client  *http.Client
	Logger  hclog.Logger
}

// DefaultConfig caches for 300 s (keystonemiddleware's default) up to 10,000 tokens.
func DefaultConfig() *Config {
	return &Config{CacheTTL: 300 * time.Second, CacheMax: 10000, Timeout: 10 * time.Second,
		Service: Credentials{UserDomainName: "Default", ProjectDomainName: "Default"}}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%w: the Keystone URL must be an http(s) URL, got %q", ErrInvalidConfig, c.URL)
	case c.Service.Username == "" || c.Service.Password == "" || c.Service.ProjectName == "":
		return fmt.Errorf("%w: the service credentials need username, password and project_name", ErrInvalidConfig)
	case c.CacheTTL < 0 || c.CacheMax < 1 || c.Timeout <= 0:
		return fmt.Errorf("%w: cache TTL must be >= 0, cache size >= 1, timeout > 0", ErrInvalidConfig)
	}
	return nil
}

// LoadCredentials reads a JSON credentials file ({"username", "password", "project_name",
// "user_domain_name", "project_domain_name"}); the domains default to Default.
func LoadCredentials(path string) (Credentials, error) {
	c := Credentials{UserDomainName: "Default", ProjectDomainName: "Default"}
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%w: credentials file %s: %v", ErrInvalidConfig, path, err)
	}
	return c, nil
}
