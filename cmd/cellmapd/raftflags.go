package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/node"
)

// raftFlags are the --raft-snapshot-* and --raft-trailing-logs flags; those not given keep
// the raft profile's values (node.LANRaftConfig, node.TestRaftConfig).
type raftFlags struct {
	snapshotThreshold, trailingLogs uint64
	snapshotInterval                time.Duration
	given                           givenFlags
}

func (r *raftFlags) register(fs *flag.FlagSet) {
	lan, test := node.LANRaftConfig(), node.TestRaftConfig()
	fs.Uint64Var(&r.snapshotThreshold, "raft-snapshot-threshold", lan.SnapshotThreshold,
		fmt.Sprintf("new log entries that make raft snapshot the state (a copy of the whole state file; %d with --raft-profile test)", test.SnapshotThreshold))
	fs.DurationVar(&r.snapshotInterval, "raft-snapshot-interval", lan.SnapshotInterval,
		fmt.Sprintf("how often raft checks the threshold, randomised up to 2× (%s with --raft-profile test)", test.SnapshotInterval))
	fs.Uint64Var(&r.trailingLogs, "raft-trailing-logs", lan.TrailingLogs,
		fmt.Sprintf("log entries kept after a snapshot, so a follower that far behind catches up from the log (%d with --raft-profile test)", test.TrailingLogs))
}

// apply sets the given flags on c, the profile's settings.
func (r *raftFlags) apply(c *node.RaftConfig) error {
	if r.given["raft-snapshot-threshold"] {
		if r.snapshotThreshold == 0 {
			return errors.New("--raft-snapshot-threshold must be positive")
		}
		c.SnapshotThreshold = r.snapshotThreshold
	}
	if r.given["raft-snapshot-interval"] {
		if r.snapshotInterval < time.Second {
			return errors.New("--raft-snapshot-interval must be at least 1s")
		}
		c.SnapshotInterval = r.snapshotInterval
	}
	if r.given["raft-trailing-logs"] {
		c.TrailingLogs = r.trailingLogs
	}
	return nil
}
