package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cellmap/cellmap/fsm"
)

// Start-up check of the state file (fsm.db). The raft log (raft.db, every append fsynced) and
// the snapshots (fsynced by raft's snapshot store) are the durable record; the state file is
// derived from them, committed without fsync, fsynced and marked clean only when it is closed
// (fsm/cleanmark.go), and rebuilt from them when it cannot be trusted:
//
//   - damaged (fsm.Verify: unreadable page, checksum mismatch, not a bbolt file): set aside as
//     fsm.db.damaged-<time> and rebuilt;
//   - ahead of every record of this node (its applied index is past both the last log entry
//     and the newest snapshot, so it was not produced by this log): set aside and rebuilt;
//   - not closed cleanly after its last write (no clean-shutdown marker, or one naming another
//     applied index or checksum: the node was killed, the machine stopped, or the file is a copy
//     from another moment): removed and rebuilt, as a machine crash may have torn it in ways
//     that still verify;
//   - clean, but behind the newest snapshot: the snapshot is restored into it (raft replays
//     only the entries after its newest snapshot, and the log before it may be compacted);
//   - clean, behind the log only: raft replays the missing entries once it learns the commit
//     index.
//
// Rebuilt means: a new empty file, the newest snapshot restored into it when there is one, and
// raft replaying the log after that snapshot; with no snapshot the log is complete (it is only
// compacted after a snapshot) and is replayed from its first entry. The check that the log
// reaches back to the newest snapshot comes first, so a file is never discarded when the
// node's own records could not rebuild it.

// stateFileName is the state file inside the data directory.
const stateFileName = "fsm.db"

// StateCheck is what the start-up check found in the state file.
type StateCheck string

// The outcomes of the start-up check.
const (
	StateNew     StateCheck = "new"     // no state file: built from the snapshot and log
	StateClean   StateCheck = "clean"   // closed cleanly: opened as it is
	StateUnclean StateCheck = "unclean" // not closed cleanly after its last write: rebuilt
	StateDamaged StateCheck = "damaged" // failed verification: set aside and rebuilt
	StateAhead   StateCheck = "ahead"   // past this node's log and snapshots: set aside and rebuilt
)

// StateAtStart is what the start-up check found in the state file.
func (n *Node) StateAtStart() StateCheck { return n.stateCheck }

// openState checks the state file against the raft log and snapshots, sets it aside or removes
// it when it cannot be trusted, opens it, and brings it up to the newest snapshot. The log
// store and the snapshot store must be open.
func (n *Node) openState() error {
	if err := n.checkReplayable(); err != nil {
		return err
	}
	path := filepath.Join(n.cfg.DataDir, stateFileName)
	check, err := n.checkStateFile(path)
	if err != nil {
		return err
	}
	n.stateCheck = check
	if check != StateClean {
		// Rebuilt (or lost): the node may have served any index its records hold.
		if n.catchUpTo, err = n.lastRecordIndex(); err != nil {
			return err
		}
	}
	switch check {
	case StateDamaged, StateAhead:
		if err := setAside(path); err != nil {
			return err
		}
	case StateUnclean:
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("node: remove the unclean state file: %w", err)
		}
	}
	fcfg := fsm.DefaultConfig(path)
	fcfg.InitialMmapSize, fcfg.Logger = n.cfg.InitialMmapSize, n.logger.Named("fsm")
	if n.cfg.EventRetention != (fsm.Retention{}) {
		fcfg.Retention = n.cfg.EventRetention
	}
	if n.fsm, err = fsm.Open(fcfg); err != nil {
		return err
	}
	return n.catchUpFromSnapshot()
}

// checkStateFile classifies the state file at path (see the top of this file) and logs why it
// is not used as it is.
func (n *Node) checkStateFile(path string) (StateCheck, error) {
	v, err := fsm.VerifyClean(path)
	switch {
	case errors.Is(err, fsm.ErrDamaged):
		n.logger.Error("state file is damaged; setting it aside and rebuilding it from the snapshot and the log", "error", err)
		return StateDamaged, nil
	case err != nil:
		return "", fmt.Errorf("node: check state file: %w", err)
	case !v.Exists:
		return StateNew, nil
	}
	last, err := n.lastRecordIndex()
	if err != nil {
		return "", err
	}
	switch {
	case v.AppliedIndex > last:
		n.logger.Error("state file is ahead of this node's raft log and snapshots; setting it aside and rebuilding it",
			"applied", v.AppliedIndex, "last_log_or_snapshot", last)
		return StateAhead, nil
	case !v.Clean:
		n.logger.Warn("state file was not closed cleanly after its last write (the node stopped without a clean shutdown); rebuilding it from the snapshot and the log",
			"applied", v.AppliedIndex, "last_log_or_snapshot", last)
		return StateUnclean, nil
	}
	return StateClean, nil
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
		return fmt.Errorf("%w: the raft log starts at %d but the newest snapshot ends at %d",
			ErrStateGap, first, snap)
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
