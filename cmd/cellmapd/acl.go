package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/node"
)

// devTokenFile is where --dev keeps its admin token, under the data directory.
const devTokenFile = "dev-admin-token"

// readSecret reads a token secret from the first line of a file.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	secret := strings.TrimSpace(line)
	if !acl.WellFormed(secret) {
		return "", fmt.Errorf("%s does not hold a cellmap token (cm_ and 43 base64url characters)", path)
	}
	return secret, nil
}

// aclSecrets returns the secret the ACL is bootstrapped with on first start (--acl-bootstrap-
// token-file; with --dev one generated into <data-dir>/dev-admin-token the first time) and the
// admin token this node sends with its own node-to-node requests (--token-file, else the
// bootstrap secret). created reports a dev token made now.
func (o *options) aclSecrets() (bootstrap, own string, created bool, err error) {
	if o.dev && o.aclBootstrapFile == "" {
		o.aclBootstrapFile = filepath.Join(o.dataDir, devTokenFile)
		if created, err = ensureDevToken(o.aclBootstrapFile); err != nil {
			return "", "", false, err
		}
	}
	if o.aclBootstrapFile != "" {
		if bootstrap, err = readSecret(o.aclBootstrapFile); err != nil {
			return "", "", false, fmt.Errorf("--acl-bootstrap-token-file: %w", err)
		}
	}
	own = bootstrap
	if o.tokenFile != "" {
		if own, err = readSecret(o.tokenFile); err != nil {
			return "", "", false, fmt.Errorf("--token-file: %w", err)
		}
	}
	return bootstrap, own, created, nil
}

// ensureDevToken writes a new admin secret to path (mode 0600) unless it exists.
func ensureDevToken(path string) (bool, error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	secret, err := acl.NewSecret()
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, err
	}
	return true, os.WriteFile(path, []byte(secret+"\n"), 0o600)
}

// bootstrapACL is a leader duty: it bootstraps the ACL with the configured secret unless the
// cluster was bootstrapped already (by this duty or POST /v1/acl/bootstrap). A failed attempt
// is retried every second while this node leads: the first write of a forming cluster can be
// refused (e.g. 503 unsupported_version while a member that just joined cannot yet say which
// log versions it reads), and nobody could use the cluster without its admin token.
func bootstrapACL(logger interface{ Info(string, ...any) }, n *node.Node, secret string) func(ctx context.Context) {
	return func(ctx context.Context) {
		t, _, err := httpapi.NewToken(acl.RoleAdmin, "bootstrap admin token (--acl-bootstrap-token-file)", "", 0, time.Now())
		if err != nil {
			return
		}
		t.SecretHash = acl.Hash(secret)
		for {
			res, err := n.Apply(ctx, &fsm.ACLBootstrap{Token: t})
			switch {
			case err == nil && res.Err == nil:
				logger.Info("ACL bootstrapped with the configured admin token", "accessor_id", t.AccessorID)
				return
			case err == nil && errors.Is(res.Err, fsm.ErrACLBootstrapped):
				return
			}
			logger.Info("ACL bootstrap failed; retrying", "error", fmt.Sprint(err, res))
			timer := time.NewTimer(time.Second)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
		}
	}
}
