package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/keystone"
	"github.com/hashicorp/go-hclog"
)

// keystoneFlags are the --keystone-* flags: with a URL, tokens that are not cellmap's own are
// validated with that Keystone.
type keystoneFlags struct {
	url, credentialsFile string
	cacheTTL             time.Duration
}

func (k *keystoneFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&k.url, "keystone-url", "", "Keystone identity endpoint (e.g. https://keystone:5000/v3): validate the tokens that are not cellmap's own there")
	fs.StringVar(&k.credentialsFile, "keystone-credentials-file", "", "JSON file with the service user cellmap authenticates to Keystone as: username, password, project_name, user_domain_name, project_domain_name")
	fs.DurationVar(&k.cacheTTL, "keystone-cache-ttl", keystone.DefaultConfig().CacheTTL, "how long a Keystone validation is reused (a revoked token is honoured for at most this long)")
}

// validator returns the Keystone validator the flags ask for (nil without --keystone-url).
func (k *keystoneFlags) validator(logger hclog.Logger) (*keystone.Validator, error) {
	if k.url == "" {
		if k.credentialsFile != "" {
			return nil, fmt.Errorf("--keystone-credentials-file needs --keystone-url")
		}
		return nil, nil
	}
	if k.credentialsFile == "" {
		return nil, fmt.Errorf("--keystone-url needs --keystone-credentials-file (the service user cellmap validates tokens as)")
	}
	cfg := keystone.DefaultConfig()
	cfg.URL, cfg.CacheTTL, cfg.Logger = k.url, k.cacheTTL, logger
	var err error
	if cfg.Service, err = keystone.LoadCredentials(k.credentialsFile); err != nil {
		return nil, err
	}
	return keystone.New(cfg)
}
