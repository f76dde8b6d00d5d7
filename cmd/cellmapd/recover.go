package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cellmap/cellmap/internal/flagenv"
	"github.com/cellmap/cellmap/internal/logflags"
	"github.com/cellmap/cellmap/node"
	"github.com/hashicorp/go-hclog"
)

// cellmapd recover: disaster recovery when a quorum is lost for good (node.Recover). Run it
// with the node stopped; then start the node as usual (without --bootstrap or --join).

// recoverOptions are the command line of cellmapd recover.
type recoverOptions struct {
	nodeID, dataDir, peers string
	log                    logflags.Flags
}

func parseRecover(args []string, stderr io.Writer, lookup func(string) (string, bool)) (*recoverOptions, error) {
	o := &recoverOptions{}
	fs := flag.NewFlagSet("cellmapd recover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dataDir, "data-dir", "", "data directory of the stopped node to recover (required)")
	fs.StringVar(&o.peers, "peers", "", "the new raft configuration: id=raft-host:port[,id=raft-host:port...] (required; this node among them)")
	fs.StringVar(&o.nodeID, "node-id", "", "this node's id (default: the only peer, or the host name)")
	o.log.Register(fs)
	fs.Usage = flagenv.Usage(fs, "CELLMAP_", "usage: cellmapd recover --data-dir DIR --peers id=host:port[,...] [--node-id ID]\n\n"+
		"Rewrites the raft configuration of a stopped node whose cluster lost its quorum for good (hashicorp/raft\n"+
		"RecoverCluster). Run it on every surviving node with the same --peers, then start them as usual.")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if err := flagenv.Apply(fs, "CELLMAP_", lookup); err != nil {
		return nil, err
	}
	return o, nil
}

// config turns the command line into node.Recover's configuration.
func (o *recoverOptions) config(logger hclog.Logger) (*node.RecoverConfig, error) {
	if o.dataDir == "" || o.peers == "" {
		return nil, errors.New("--data-dir and --peers are required")
	}
	peers, err := node.ParsePeers(o.peers)
	if err != nil {
		return nil, fmt.Errorf("--peers: %w", err)
	}
	id := o.nodeID
	switch {
	case id != "":
	case len(peers) == 1:
		id = peers[0].ID
	default:
		if id, err = os.Hostname(); err != nil {
			return nil, fmt.Errorf("--node-id: %w", err)
		}
	}
	cfg := &node.RecoverConfig{NodeID: id, DataDir: o.dataDir, Peers: peers, Logger: logger}
	return cfg, cfg.Validate()
}

func runRecover(args []string, stderr io.Writer, lookup func(string) (string, bool)) int {
	o, err := parseRecover(args, stderr, lookup)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "cellmapd recover:", err)
		return 2
	}
	logger, err := o.log.New("cellmapd", stderr)
	if err != nil {
		fmt.Fprintln(stderr, "cellmapd recover:", err)
		return 2
	}
	cfg, err := o.config(logger.Named("recover"))
	if err != nil {
		fmt.Fprintln(stderr, "cellmapd recover:", err)
		return 2
	}
	if err := node.Recover(cfg); err != nil {
		logger.Error("recovery failed", "error", err)
		return 1
	}
	fmt.Fprintf(stderr, "cellmapd recover: %s now has the raft configuration %s; start the node(s) as usual (no --bootstrap, no --join)\n",
		o.dataDir, o.peers)
	return 0
}
