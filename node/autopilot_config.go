package node

import (
	"errors"
	"fmt"
	"time"
)

// AutopilotConfig configures the leader's autopilot (hashicorp/raft-autopilot, autopilot.go).
// With it, a node that joins is added as a non-voter and promoted once it has been healthy
// for ServerStabilizationTime, and a voter whose gossip member has failed for longer than
// DeadServerThreshold is removed, never leaving fewer than MinQuorum voters.
type AutopilotConfig struct {
	// CleanupDeadServers enables the removal of dead servers.
	CleanupDeadServers bool
	// DeadServerThreshold is how long the leader must have seen a server failed in the gossip
	// pool before it removes it. It should exceed the longest planned downtime of a node: a
	// removed node has to be joined again.
	DeadServerThreshold time.Duration
	// LastContactThreshold: a server that has not heard from the leader for longer is
	// unhealthy.
	LastContactThreshold time.Duration
	// MaxTrailingLogs: a server whose log is more entries behind the leader's is unhealthy.
	MaxTrailingLogs uint64
	// MinQuorum is the fewest voters dead-server cleanup leaves (0: only the majority rule:
	// never remove a majority).
	MinQuorum uint
	// ServerStabilizationTime is how long a new server must stay healthy before it is
	// promoted to voter.
	ServerStabilizationTime time.Duration
	// UpdateInterval is how often server health is refreshed; ReconcileInterval how often
	// promotions and removals are decided.
	UpdateInterval, ReconcileInterval time.Duration
}

// LANAutopilotConfig returns production settings.
func LANAutopilotConfig() AutopilotConfig {
	return AutopilotConfig{CleanupDeadServers: true, DeadServerThreshold: 10 * time.Minute, LastContactThreshold: time.Second,
		MaxTrailingLogs: 250, ServerStabilizationTime: 10 * time.Second, UpdateInterval: 2 * time.Second, ReconcileInterval: 10 * time.Second}
}

// TestAutopilotConfig returns short timings for tests on loopback (the raft test profile's):
// promotion within seconds; a dead server is still given a minute, so tests that stop a node
// for a while do not lose it.
func TestAutopilotConfig() AutopilotConfig {
	c := LANAutopilotConfig()
	c.DeadServerThreshold, c.LastContactThreshold, c.ServerStabilizationTime = time.Minute, 2*time.Second, 2*time.Second
	c.UpdateInterval, c.ReconcileInterval = 250*time.Millisecond, 500*time.Millisecond
	return c
}

// Validate checks the configuration.
func (c *AutopilotConfig) Validate() error {
	switch {
	case c.DeadServerThreshold <= 0 || c.LastContactThreshold <= 0 || c.ServerStabilizationTime < 0:
		return errors.New("node: autopilot DeadServerThreshold and LastContactThreshold must be positive, ServerStabilizationTime not negative")
	case c.UpdateInterval <= 0 || c.ReconcileInterval <= 0:
		return errors.New("node: autopilot UpdateInterval and ReconcileInterval must be positive")
	case c.MaxTrailingLogs == 0:
		return fmt.Errorf("node: autopilot MaxTrailingLogs must be positive")
	}
	return nil
}
