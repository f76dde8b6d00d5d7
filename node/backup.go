package node

import (
	"context"
	"io"
	"time"

	"github.com/cellmap/cellmap/backup"
	"github.com/cellmap/cellmap/fsm"
)

// Backup writes a consistent backup of the state to w (package backup's format): after a
// linearizable barrier, so it holds every write acknowledged before the call on any node, in
// one read transaction of the local state. Nothing is written to w when the barrier fails (no
// leader), so the caller can still answer with an error; a failure while writing leaves a
// backup without its trailing hash, which every reader refuses.
func (n *Node) Backup(ctx context.Context, w io.Writer) (*backup.Header, error) {
	var h *backup.Header
	_, err := n.Read(ctx, Linearizable{}, func(r *fsm.Reader) error {
		h = &backup.Header{RaftIndex: r.AppliedIndex(), RaftTerm: n.raft.CurrentTerm(), FSMChecksum: r.Checksum(),
			StateSize: r.Size(), Created: time.Now().UTC(), NodeID: n.cfg.NodeID}
		return backup.Write(w, h, r)
	})
	if err != nil {
		return nil, err
	}
	n.logger.Info("backup taken", "raft_index", h.RaftIndex, "fsm_checksum", h.FSMChecksum, "bytes", h.StateSize)
	return h, nil
}
