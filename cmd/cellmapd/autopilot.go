package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/gossip"
	"github.com/cellmap/cellmap/node"
)

// autopilotFlags are the --autopilot* flags. The durations not given come from the raft
// profile (node.LANAutopilotConfig, node.TestAutopilotConfig).
type autopilotFlags struct {
	enabled, cleanup                          bool
	deadThreshold, lastContact, stabilization time.Duration
	maxTrailing                               uint64
	minQuorum                                 uint
	given                                     givenFlags
}

func (a *autopilotFlags) register(fs *flag.FlagSet) {
	lan, test := node.LANAutopilotConfig(), node.TestAutopilotConfig()
	fs.BoolVar(&a.enabled, "autopilot", true,
		"run autopilot on the leader: a joining node is added as a non-voter and promoted once stable; dead servers are removed")
	fs.BoolVar(&a.cleanup, "autopilot-cleanup-dead-servers", lan.CleanupDeadServers, "remove servers that have been failed in the gossip pool for --autopilot-dead-server-threshold")
	fs.DurationVar(&a.deadThreshold, "autopilot-dead-server-threshold", lan.DeadServerThreshold,
		fmt.Sprintf("how long the leader must see a server failed before removing it (%s with --raft-profile test); a removed node must be joined again", test.DeadServerThreshold))
	fs.DurationVar(&a.lastContact, "autopilot-last-contact-threshold", lan.LastContactThreshold,
		fmt.Sprintf("a server without leader contact for longer is unhealthy (%s with --raft-profile test)", test.LastContactThreshold))
	fs.DurationVar(&a.stabilization, "autopilot-server-stabilization-time", lan.ServerStabilizationTime,
		fmt.Sprintf("how long a new server must stay healthy before it becomes a voter (%s with --raft-profile test)", test.ServerStabilizationTime))
	fs.Uint64Var(&a.maxTrailing, "autopilot-max-trailing-logs", lan.MaxTrailingLogs, "a server whose log is more entries behind the leader's is unhealthy")
	fs.UintVar(&a.minQuorum, "autopilot-min-quorum", lan.MinQuorum, "dead-server cleanup never leaves fewer voters than this (0: it only never removes a majority)")
}

// config is the node's autopilot configuration for a raft profile (nil with --autopilot=false).
func (a *autopilotFlags) config(raftProfile string) (*node.AutopilotConfig, error) {
	if !a.enabled {
		return nil, nil
	}
	c := node.LANAutopilotConfig()
	if raftProfile == "test" {
		c = node.TestAutopilotConfig()
	}
	c.CleanupDeadServers, c.MaxTrailingLogs, c.MinQuorum = a.cleanup, a.maxTrailing, a.minQuorum
	for name, d := range map[string]struct {
		dst *time.Duration
		v   time.Duration
	}{
		"autopilot-dead-server-threshold":     {&c.DeadServerThreshold, a.deadThreshold},
		"autopilot-last-contact-threshold":    {&c.LastContactThreshold, a.lastContact},
		"autopilot-server-stabilization-time": {&c.ServerStabilizationTime, a.stabilization},
	} {
		if a.given[name] {
			*d.dst = d.v
		}
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("--autopilot flags: %w", err)
	}
	return &c, nil
}

// gossipServers is the gossip pool's view of the servers, for autopilot.
type gossipServers struct{ g *gossip.Gossip }

// ServerStatus implements node.ServerMembers: alive when the pool lists the server alive,
// failed while the pool remembers its failure, unknown otherwise.
func (s gossipServers) ServerStatus(id string) node.MemberStatus {
	for _, m := range s.g.Members() {
		if m.Meta.Role == api.RoleServer && m.Meta.NodeID == id && m.Alive {
			return node.MemberAlive
		}
	}
	if _, failed := s.g.FailedSince(serverGossipName(id)); failed {
		return node.MemberFailed
	}
	return node.MemberUnknown
}

// serverGossipName is the pool name of server id.
func serverGossipName(id string) string { return "server/" + id }
