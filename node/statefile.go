package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cellmap/cellmap/fsm"
)

// Start-up check of the state file (fsm.db). The raft log (raft.db) and the snapshots are the
// durable record; the state file is derived from them and is rebuilt from them when it cannot
// be trusted:
//
//   - damaged (fsm.Verify: unreadable page, checksum mismatch, not a bbolt file): set aside as
//     fsm.db.damaged-<time> and rebuilt;
//   - ahead of every record of this node (its applied index is past both the last log entry
//     and the newest snapshot, so it was not produced by this log): set aside and rebuilt;
//   - behind the newest snapshot: the snapshot is restored into it (raft replays only the
//     entries after its newest snapshot, and the log before it may be compacted);
//   - behind the log only: raft replays the missing entries once it learns the commit index.
//
// Rebuilt means: a new empty file, the newest snapshot restored into it when there is one, and
// raft replaying the log after that snapshot; with no snapshot the log is complete (it is only
// compacted after a snapshot) and is replayed from its first entry.

// stateFileName is the state file inside the data directory.
const stateFileName = "fsm.db"

// openState checks the state file against the raft log and snapshots, sets it aside when it
// cannot be trusted, opens it, and brings it up to the newest snapshot. The log store and the
// snapshot store must be open.
func (n *Node) openState() error {
	path := filepath.Join(n.cfg.DataDir, stateFileName)
	applied, err := fsm.Verify(path)
	switch {
	case errors.Is(err, fsm.ErrDamaged):
		n.logger.Error("state file is damaged; setting it aside and rebuilding it from the snapshot and the log", "error", err)
		if err := setAside(path); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("node: check state file: %w", err)
	default:
		last, err := n.lastRecordIndex()
		if err != nil {
			return err
		}
		if applied > last {
			n.logger.Error("state file is ahead of this node's raft log and snapshots; setting it aside and rebuilding it",
				"applied", applied, "last_log_or_snapshot", last)
			if err := setAside(path); err != nil {
				return err
			}
		}
	}
	fcfg := fsm.DefaultConfig(path)
	fcfg.InitialMmapSize, fcfg.NoSync, fcfg.Logger = n.cfg.InitialMmapSize, n.cfg.FSMNoSync, n.logger.Named("fsm")
	if n.cfg.EventRetention != (fsm.Retention{}) {
		fcfg.Retention = n.cfg.EventRetention
	}
	if n.fsm, err = fsm.Open(fcfg); err != nil {
		return err
	}
	if err := n.catchUpFromSnapshot(); err != nil {
		return err
	}
	return n.checkReplayable()
}

// lastRecordIndex is the highest index this node's raft history holds: its last log entry or
// its newest snapshot, whichever is later.
func (n *Node) lastRecordIndex() (uint64, error) {
	last, err := n.logStore.LastIndex()
	if err != nil {
		return 0, fmt.Errorf("node: read raft log: %w", err)
	}
	if snap, err := n.newestSnapshotIndex(); err != nil {
		return 0, err
	} else if snap > last {
		last = snap
	}
	return last, nil
}

func (n *Node) newestSnapshotIndex() (uint64, error) {
	snaps, err := n.snapshots.List()
	if err != nil {
		return 0, fmt.Errorf("node: list snapshots: %w", err)
	}
	if len(snaps) == 0 {
		return 0, nil
	}
	return snaps[0].Index, nil
}

// catchUpFromSnapshot restores the newest snapshot when the state file is older than it. raft
// runs with NoSnapshotRestoreOnStart and replays only entries after its newest snapshot, so a
// state file left behind (by a crash during a snapshot install, an old copy, or a rebuild)
// must be brought up to it first.
func (n *Node) catchUpFromSnapshot() error {
	snaps, err := n.snapshots.List()
	if err != nil || len(snaps) == 0 {
		return err
	}
	latest := snaps[0]
	if latest.Index <= n.fsm.AppliedIndex() {
		return nil
	}
	n.logger.Warn("state file is behind the newest snapshot; restoring it", "applied", n.fsm.AppliedIndex(), "snapshot", latest.Index)
	_, rc, err := n.snapshots.Open(latest.ID)
	if err != nil {
		return fmt.Errorf("node: open snapshot %s: %w", latest.ID, err)
	}
	return n.fsm.Restore(rc)
}

// checkReplayable refuses to start when raft could not replay the log onto the state: raft
// replays from the entry after its newest snapshot, which must still be in the log.
func (n *Node) checkReplayable() error {
	first, err := n.logStore.FirstIndex()
	if err != nil {
		return fmt.Errorf("node: read raft log: %w", err)
	}
	snap, err := n.newestSnapshotIndex()
	if err != nil {
		return err
	}
	if first > snap+1 {
		return fmt.Errorf("%w: the raft log starts at %d but the newest snapshot ends at %d (state applied to %d)",
			ErrStateGap, first, snap, n.fsm.AppliedIndex())
	}
	return nil
}

// ErrStateGap: the state cannot be rebuilt from this node's snapshots and log (a snapshot is
// missing); the node does not start rather than serve a state with a hole.
var ErrStateGap = errors.New("node: state cannot be rebuilt from the local snapshots and log")

// setAside renames the state file to fsm.db.damaged-<UTC time>, keeping it for inspection.
func setAside(path string) error {
	aside := fmt.Sprintf("%s.damaged-%s", path, time.Now().UTC().Format("20060102T150405.000000000Z"))
	if err := os.Rename(path, aside); err != nil {
		return fmt.Errorf("node: set the state file aside: %w", err)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("node: set the state file aside: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("node: set the state file aside: %w", err)
	}
	return nil
}
