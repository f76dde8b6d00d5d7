package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/cellmap/cellmap/backup"
	"github.com/cellmap/cellmap/fsm"
	"github.com/hashicorp/raft"
)

// Restore replaces the cluster's state with a backup, as `consul snapshot restore` does: the
// backup is read from r into the data directory and verified (package backup) before anything
// changes, then the leader hands it to raft as a user snapshot (raft.Restore): raft installs
// it into its own state, sends it to every follower, and returns once a quorum has applied an
// entry after it. On a follower the verified backup is forwarded to the leader. A damaged,
// truncated or foreign backup is refused with an error wrapping ErrInvalid and
// backup.ErrCorrupt, and changes nothing. Writes in flight on the leader when the restore
// begins fail with ErrOutcomeUnknown; their effect, if any, is replaced by the backup.
func (n *Node) Restore(ctx context.Context, r io.Reader) (*backup.Header, error) {
	ex, err := backup.Extract(r, n.cfg.DataDir)
	if errors.Is(err, backup.ErrCorrupt) {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err != nil {
		return nil, fmt.Errorf("node: restore: %w", err)
	}
	// The state file is open while raft reads it; removing its name does not stop that.
	defer ex.Remove()
	err = n.onLeader(ctx, func() error {
		if !n.IsLeader() {
			return n.forwardRestore(ctx, ex)
		}
		return n.restoreLocal(ctx, ex)
	})
	if err != nil {
		return nil, err
	}
	return &ex.Header, nil
}

// restoreLocal restores a verified backup on this node, the leader.
func (n *Node) restoreLocal(ctx context.Context, ex *backup.Extracted) error {
	f, err := os.Open(ex.Path)
	if err != nil {
		return fmt.Errorf("node: restore: %w", err)
	}
	h := ex.Header
	meta := &raft.SnapshotMeta{Version: raft.SnapshotVersionMax, Index: h.RaftIndex, Term: h.RaftTerm, Size: h.StateSize}
	n.logger.Warn("restoring a backup: the cluster's state is replaced", "raft_index", h.RaftIndex, "fsm_checksum", h.FSMChecksum,
		"taken", h.Created, "by", h.NodeID)
	done := make(chan error, 1)
	go func() {
		defer f.Close()
		done <- n.raft.Restore(meta, f, n.cfg.Raft.ApplyTimeout)
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		// raft.Restore cannot be cancelled: it goes on, and may complete.
		return fmt.Errorf("%w: the restore was still running when the request ended: %v", ErrOutcomeUnknown, ctx.Err())
	}
	if err != nil {
		return classifyApplyError(err)
	}
	// raft ends its restore with a raft no-op, which the state never sees: the state's applied
	// index is the backup's until a command is applied, and reads waiting for the commit
	// index would wait for the next write. The leader's own no-op command moves it on every
	// node. Should it fail, leadership is moving and the next leader commits one.
	if _, err := n.applyLocal(ctx, fsm.Encode(&fsm.Noop{}, time.Now().UTC())); err != nil {
		n.logger.Warn("committing a no-op after the restore failed", "error", err)
	}
	n.logger.Info("backup restored", "raft_index", h.RaftIndex, "fsm_checksum", h.FSMChecksum, "applied", n.fsm.AppliedIndex())
	return nil
}

// forwardRestore sends a verified backup to the leader.
func (n *Node) forwardRestore(ctx context.Context, ex *backup.Extracted) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(ex.WriteBackup(pw)) }()
	defer pr.Close()
	_, err := n.postLeaderBody(ctx, PathRestore, pr, true)
	return err
}

// serveRestore restores a backup a follower forwarded.
func (n *Node) serveRestore(w http.ResponseWriter, r *http.Request) {
	h, err := n.Restore(r.Context(), r.Body)
	if err != nil {
		internalError(w, err)
		return
	}
	writeInternal(w, http.StatusOK, h)
}
