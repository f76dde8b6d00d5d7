package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/conductor"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/gossip"
)

// Development mode: one node, cell0 mapped, and a local cell ("cell1") served by an in-process
// conductor with simulated compute hosts, mapped and discovered, plus two flavors.
const (
	devCell0Database = "cellmap://replicated-state/cell0"
	devCell1UUID     = "11111111-1111-4111-8111-111111111111"
	devCell1Hosts    = "compute1:16:32768:500,compute2:16:32768:500,compute3:8:16384:250"
)

var devFlavors = []fsm.Flavor{
	{ID: "1", Name: "m1.tiny", VCPUs: 1, RAMMB: 512, DiskGB: 1},
	{ID: "2", Name: "m1.small", VCPUs: 1, RAMMB: 2048, DiskGB: 20},
	{ID: "3", Name: "m1.medium", VCPUs: 2, RAMMB: 4096, DiskGB: 40},
}

// startDevConductor runs cell1's conductor inside this process.
func startDevConductor(ctx context.Context, r *running, cfg *serverConfig) (*conductor.Conductor, error) {
	hosts, err := conductor.ParseHosts(devCell1Hosts)
	if err != nil {
		return nil, err
	}
	ccfg := conductor.DefaultConfig()
	ccfg.CellUUID, ccfg.DataDir, ccfg.Name = devCell1UUID, filepath.Join(cfg.opts.dataDir, "cell1"), "dev"
	ccfg.HTTPAddr, ccfg.GossipAddr, ccfg.Join = cfg.opts.devConductorAddr, cfg.opts.devConductorGossip, []string{r.gossip.LocalAddr()}
	ccfg.GossipProfile, ccfg.Hosts, ccfg.Logger = cfg.opts.gossipProfile, hosts, cfg.logger.Named("cell1")
	ccfg.TLS = cfg.devConductorServerTLS()
	if cfg.opts.gossipKeyFile != "" {
		if ccfg.GossipKeys, err = gossip.ReadKeyFile(cfg.opts.gossipKeyFile); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", ccfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("dev conductor: %w", err)
	}
	c, err := conductor.New(ccfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	go c.Serve(ln)
	r.extra = append(r.extra, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.Shutdown(sctx)
	})
	return c, c.Start(ctx)
}

// devSetup maps cell0 and the local cell, discovers its hosts, adds flavors, and says what to try.
func devSetup(ctx context.Context, r *running, cfg *serverConfig, stdout io.Writer) error {
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := r.node.Apply(wctx, &fsm.MapCell0{DatabaseConnection: devCell0Database}); err != nil {
		return err
	}
	if _, err := startDevConductor(wctx, r, cfg); err != nil {
		return err
	}
	if err := mapDevCell(wctx, r, cfg); err != nil {
		return err
	}
	for _, f := range devFlavors {
		if _, err := r.node.Apply(wctx, &fsm.PutFlavor{Flavor: f}); err != nil {
			return err
		}
	}
	if err := waitCellUp(wctx, r.proxy.Registry(), devCell1UUID); err != nil {
		return err
	}
	res, err := r.proxy.DiscoverHosts(wctx, api.DiscoverHosts{CellUUID: devCell1UUID})
	if err != nil {
		return err
	}
	clouds, err := devIdentity(wctx, r, cfg)
	if err != nil {
		return err
	}
	printDevHelp(stdout, cfg, len(res.Mapped), clouds)
	return nil
}

// mapDevCell maps cell1, or points its transport URL at the conductor as this start serves it
// (https with --dev-tls, http without).
func mapDevCell(ctx context.Context, r *running, cfg *serverConfig) error {
	url := cfg.scheme() + "://" + cfg.opts.devConductorAddr + "/"
	cell := fsm.Cell{UUID: devCell1UUID, Name: "cell1", TransportURL: url,
		DatabaseConnection: "bbolt:///" + filepath.Join(cfg.opts.dataDir, "cell1", "cell.db")}
	res, err := r.node.Apply(ctx, &fsm.CreateCell{Cell: cell})
	if err == nil && errors.Is(res.Err, fsm.ErrExists) {
		res, err = r.node.Apply(ctx, &fsm.UpdateCell{UUID: devCell1UUID, TransportURL: &url})
	}
	if err != nil || res.Err != nil {
		return fmt.Errorf("map cell1: %v %v", err, res)
	}
	return nil
}

func waitCellUp(ctx context.Context, reg *cellproxy.Registry, cell string) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !reg.Up(cell) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("cell %s never came up: %w", cell, ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

func printDevHelp(w io.Writer, cfg *serverConfig, newHosts int, clouds string) {
	addr := cfg.scheme() + "://" + cfg.opts.httpAddr
	tokenFile := filepath.Join(cfg.opts.dataDir, devTokenFile)
	exports, curl := fmt.Sprintf("\n  export CELLMAP_TOKEN_FILE=%s", tokenFile), `curl -s -H "Authorization: Bearer $(cat $CELLMAP_TOKEN_FILE)"`
	if cfg.tls != nil {
		exports += fmt.Sprintf("\n  export CELLMAP_CACERT=%s", cfg.tls.Files().CAFile)
		curl += " --cacert $CELLMAP_CACERT"
	}
	fmt.Fprintf(w, `
cellmap is running: node %q, data in %s, API on %s.
Every request but /healthz and /readyz needs a token: the admin token of this dev node is in
%s (mode 0600).
cell0 is mapped; cell1 (%s) is served by a local conductor on %s with 3 simulated
compute hosts (%d newly discovered). Flavors: 1 m1.tiny, 2 m1.small, 3 m1.medium.

Try, in another terminal:
  export CELLMAP_ADDR=%s%s
  go run ./cmd/cellmapctl cell_v2 list_cells
  go run ./cmd/cellmapctl cell_v2 list_hosts
  go run ./cmd/cellmapctl server create --name vm1 --flavor 1 --image cirros --project demo --user alice --wait
  go run ./cmd/cellmapctl server list --project demo
  go run ./cmd/cellmapctl cluster status
  %s %s/v1/cells

The OpenStack client works through the built-in identity API (user %s, password in %s):
  export OS_CLIENT_CONFIG_FILE=%s
  export OS_CLOUD=%s
  openstack flavor list
  openstack server list

Stop with Ctrl-C.
`, cfg.opts.nodeID, cfg.opts.dataDir, addr, tokenFile, devCell1UUID, cfg.opts.devConductorAddr, newHosts, addr, exports, curl, addr,
		devUser, filepath.Join(cfg.opts.dataDir, devPasswordFile), clouds, devCloud)
}
