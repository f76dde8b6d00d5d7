package node

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cellmap/cellmap/backup"
	"github.com/hashicorp/raft"
)

// A new cluster from a backup (Config.RestoreFrom, `cellmapd --bootstrap --restore-from`):
// on a first start the verified backup becomes this node's newest raft snapshot, at the
// backup's raft index, with a configuration of this node alone, as a bootstrap would make
// it. The state file is then restored from that snapshot like any state file behind its
// snapshot (statefile.go), and raft starts on it: the node elects itself and serves the
// backup's state; other nodes join it as usual and receive the snapshot. The snapshot is
// written whole before anything else, so a crash at any point either leaves no raft state
// (the next start seeds again) or a complete snapshot (the next start is a restart).

// seedFromBackup writes the snapshot of Config.RestoreFrom when this node has no raft state.
func (n *Node) seedFromBackup() error {
	if n.cfg.RestoreFrom == "" {
		return nil
	}
	existing, err := raft.HasExistingState(n.logStore, n.logStore, n.snapshots)
	if err != nil {
		return fmt.Errorf("node: inspect raft state: %w", err)
	}
	if existing {
		n.logger.Warn("not restoring the backup: this node has raft state already (restore into a running cluster with cellmapctl restore)",
			"restore_from", n.cfg.RestoreFrom)
		return nil
	}
	f, err := os.Open(n.cfg.RestoreFrom)
	if err != nil {
		return fmt.Errorf("node: restore from: %w", err)
	}
	defer f.Close()
	ex, err := backup.Extract(f, n.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("node: restore from %s: %w", n.cfg.RestoreFrom, err)
	}
	defer ex.Remove()
	// A state file without raft state is not this cluster's: keep it aside, never serve it.
	path := filepath.Join(n.cfg.DataDir, stateFileName)
	if _, err := os.Stat(path); err == nil {
		n.logger.Warn("setting aside a state file found without raft state", "path", path)
		if err := setAside(path); err != nil {
			return err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("node: restore from: %w", err)
	}
	if err := n.writeSeedSnapshot(ex); err != nil {
		return fmt.Errorf("node: restore from %s: %w", n.cfg.RestoreFrom, err)
	}
	n.logger.Info("new cluster from a backup", "restore_from", n.cfg.RestoreFrom, "raft_index", ex.Header.RaftIndex,
		"fsm_checksum", ex.Header.FSMChecksum, "taken", ex.Header.Created, "by", ex.Header.NodeID)
	return nil
}

// writeSeedSnapshot stores the backup's state as a snapshot at its index. The term is 1, the
// first term of the new cluster: the backup's own term means nothing here.
func (n *Node) writeSeedSnapshot(ex *backup.Extracted) error {
	conf := raft.Configuration{Servers: []raft.Server{{
		Suffrage: raft.Voter, ID: raft.ServerID(n.cfg.NodeID), Address: raft.ServerAddress(n.cfg.advertise()),
	}}}
	idx := ex.Header.RaftIndex
	trans := peerEncoder()
	defer trans.Close()
	sink, err := n.snapshots.Create(raft.SnapshotVersionMax, idx, 1, conf, idx, trans)
	if err != nil {
		return err
	}
	state, err := os.Open(ex.Path)
	if err != nil {
		sink.Cancel()
		return err
	}
	defer state.Close()
	if _, err := io.Copy(sink, state); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

// peerEncoder is a transport for snapshot stores used before raft runs: they only ask it to
// encode peer addresses, which every raft transport encodes as the address's bytes.
func peerEncoder() *raft.InmemTransport {
	_, t := raft.NewInmemTransport("")
	return t
}
