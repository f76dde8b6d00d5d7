package main

import (
	"fmt"
	"net"
	"strings"

	"github.com/cellmap/cellmap/node"
)

// checkAddrs makes every address flag that cannot be used a startup error naming the flag:
// listen addresses are host:port (the host may be empty: all interfaces), addresses others
// dial need a host, --join entries may be http(s)://host:port, and --pprof-addr must be on
// loopback unless --pprof-allow-remote.
func (o *options) checkAddrs() error {
	for _, f := range []struct {
		flag, value  string
		hostRequired bool
	}{
		{"--http-addr", o.httpAddr, false},
		{"--raft-addr", o.raftAddr, false},
		{"--gossip-addr", o.gossipAddr, false},
		{"--dev-conductor-addr", o.devConductorAddr, true},
		{"--dev-conductor-gossip-addr", o.devConductorGossip, true},
	} {
		if err := node.CheckHostPort(f.value, f.hostRequired); err != nil {
			return fmt.Errorf("%s: %w", f.flag, err)
		}
	}
	if o.computeAddr != "" {
		if err := node.CheckHostPort(o.computeAddr, false); err != nil {
			return fmt.Errorf("--compute-addr: %w", err)
		}
	}
	if o.raftAdvertise != "" {
		if err := node.CheckHostPort(o.raftAdvertise, true); err != nil {
			return fmt.Errorf("--raft-advertise: %w", err)
		}
	}
	if o.join != "" {
		for _, j := range strings.Split(o.join, ",") {
			if _, err := node.JoinURL(j); err != nil {
				return fmt.Errorf("--join: %w", err)
			}
		}
	}
	if o.gossipJoin != "" {
		for _, g := range strings.Split(o.gossipJoin, ",") {
			if err := node.CheckHostPort(g, true); err != nil {
				return fmt.Errorf("--gossip-join: %w", err)
			}
		}
	}
	return o.checkPprofAddr()
}

// checkPprofAddr keeps the pprof listener, which exposes memory contents and profiles, on
// loopback unless the operator says otherwise.
func (o *options) checkPprofAddr() error {
	if o.pprofAddr == "" {
		return nil
	}
	if err := node.CheckHostPort(o.pprofAddr, false); err != nil {
		return fmt.Errorf("--pprof-addr: %w", err)
	}
	if o.pprofAllowRemote {
		return nil
	}
	host, _, _ := net.SplitHostPort(o.pprofAddr)
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("--pprof-addr %s is not a loopback address: pprof shows memory contents and profiles to whoever connects; "+
		"use 127.0.0.1 or [::1], or add --pprof-allow-remote", o.pprofAddr)
}
