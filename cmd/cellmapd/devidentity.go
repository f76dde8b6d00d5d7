package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// The built-in identity of --dev: an admin user whose password is kept under the data
// directory, and a clouds.yaml for the OpenStack client.
const (
	devPasswordFile = "dev-admin-password"
	devCloudsFile   = "clouds.yaml"
	devCloud        = "cellmap-dev"
	devUser         = "admin"
	devProject      = "admin"
)

// devIdentity makes sure the dev admin user exists with the password of <data-dir>/dev-admin-
// password (generated, mode 0600, the first time) and writes <data-dir>/clouds.yaml (0600: it
// holds the password). It returns the path of clouds.yaml.
func devIdentity(ctx context.Context, r *running, cfg *serverConfig) (string, error) {
	pw, err := ensureDevPassword(filepath.Join(cfg.opts.dataDir, devPasswordFile))
	if err != nil {
		return "", err
	}
	var user *fsm.User
	_, err = r.node.Read(ctx, node.Linearizable{}, func(rd *fsm.Reader) error {
		var err error
		user, err = rd.UserByName(fsm.DefaultDomain, devUser)
		return err
	})
	if err != nil && !errors.Is(err, fsm.ErrNotFound) {
		return "", err
	}
	if user == nil || acl.CheckPassword(pw, user.PasswordHash) != nil {
		if err := setDevUser(ctx, r, user, pw); err != nil {
			return "", err
		}
	}
	path := filepath.Join(cfg.opts.dataDir, devCloudsFile)
	return path, os.WriteFile(path, []byte(devCloudsYAML(cfg, pw)), 0o600)
}

// setDevUser creates the dev admin user with password pw, or sets its password and role.
func setDevUser(ctx context.Context, r *running, user *fsm.User, pw string) error {
	hash, err := acl.HashPassword(pw, acl.DefaultHashParams())
	if err != nil {
		return err
	}
	roles := map[string]string{devProject: acl.RoleAdmin.String()}
	var c fsm.Command = &fsm.CreateUser{User: fsm.User{ID: api.NewUUID(), Name: devUser, Domain: fsm.DefaultDomain,
		PasswordHash: hash, Roles: roles}}
	if user != nil {
		c = &fsm.UpdateUser{ID: user.ID, PasswordHash: &hash, Roles: &roles}
	}
	res, err := r.node.Apply(ctx, c)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return fmt.Errorf("dev admin user: %w", err)
	}
	return nil
}

// ensureDevPassword returns the password kept at path, writing a new one (mode 0600) when the
// file does not exist.
func ensureDevPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		if pw := strings.TrimSpace(line); pw != "" {
			return pw, nil
		}
		return "", fmt.Errorf("%s is empty", path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	pw := base64.RawURLEncoding.EncodeToString(raw[:])
	return pw, os.WriteFile(path, []byte(pw+"\n"), 0o600)
}

// devCloudsYAML is clouds.yaml with the cloud cellmap-dev: the built-in identity of this node,
// the dev admin user on its project (and the dev CA with --dev-tls).
func devCloudsYAML(cfg *serverConfig, pw string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "clouds:\n  %s:\n    auth:\n", devCloud)
	fmt.Fprintf(&b, "      auth_url: %s://%s/identity/v3\n", cfg.scheme(), cfg.opts.httpAddr)
	fmt.Fprintf(&b, "      username: %s\n      password: '%s'\n      project_name: %s\n", devUser, pw, devProject)
	b.WriteString("      user_domain_name: Default\n      project_domain_name: Default\n")
	b.WriteString("    region_name: RegionOne\n    identity_api_version: 3\n    interface: public\n")
	if cfg.tls != nil {
		fmt.Fprintf(&b, "    cacert: %s\n", cfg.tls.Files().CAFile)
	}
	return b.String()
}
