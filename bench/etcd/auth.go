package etcdbench

import (
	"context"
	"fmt"

	"github.com/cellmap/cellmap/bench"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Auth is what EnableAuth sets up: the root user etcd requires before `auth enable`, and a
// benchmark user whose one role may read and write the mappings' prefix, as a service's would.
type Auth struct {
	RootPassword string
	User         string
	Password     string
}

// EnableAuth creates the root user and role, a role "bench" with read-write on Prefix, the
// benchmark user with that role, and turns authentication on (etcdctl's `user add`, `role add`,
// `role grant-permission --prefix`, `user grant-role`, `auth enable`). sec carries the TLS
// configuration; its user is ignored (nobody needs one before auth is on).
func EnableAuth(ctx context.Context, endpoint string, sec *bench.Security, a Auth) error {
	if a.RootPassword == "" || a.User == "" || a.Password == "" {
		return fmt.Errorf("%w: root password, user and password are required", bench.ErrInvalidConfig)
	}
	tlsOnly := bench.Security{CACert: sec.CACert, ClientCert: sec.ClientCert, ClientKey: sec.ClientKey}
	cfg, err := clientConfig(&tlsOnly)
	if err != nil {
		return err
	}
	cfg.Endpoints = []string{endpoint}
	c, err := clientv3.New(cfg)
	if err != nil {
		return fmt.Errorf("etcd %s: %w", endpoint, err)
	}
	defer c.Close()
	steps := []struct {
		what string
		do   func() error
	}{
		{"add role root", func() error { _, err := c.RoleAdd(ctx, "root"); return err }},
		{"add user root", func() error { _, err := c.UserAdd(ctx, "root", a.RootPassword); return err }},
		{"grant root to root", func() error { _, err := c.UserGrantRole(ctx, "root", "root"); return err }},
		{"add role bench", func() error { _, err := c.RoleAdd(ctx, "bench"); return err }},
		{"grant read-write on " + Prefix, func() error {
			_, err := c.RoleGrantPermission(ctx, "bench", Prefix, clientv3.GetPrefixRangeEnd(Prefix), clientv3.PermissionType(clientv3.PermReadWrite))
			return err
		}},
		{"add user " + a.User, func() error { _, err := c.UserAdd(ctx, a.User, a.Password); return err }},
		{"grant bench to " + a.User, func() error { _, err := c.UserGrantRole(ctx, a.User, "bench"); return err }},
		{"enable auth", func() error { _, err := c.AuthEnable(ctx); return err }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("etcd %s: %s: %w", endpoint, s.what, err)
		}
	}
	return nil
}
