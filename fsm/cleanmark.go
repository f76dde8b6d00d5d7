package fsm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The state file is committed without fsync (bbolt NoSync): the raft log, fsynced on a majority,
// is the durable record, and the state is derived from it. A process killed between commits
// leaves a consistent file (its writes are in the page cache), but a machine that stops (power,
// kernel) can leave any subset of the written pages on disk: a meta page pointing at pages that
// never reached the disk, or at pages since reused, which may still parse. Such a file cannot be
// told apart from a good one reliably, so the FSM trusts a file only when it was closed cleanly:
// Close fsyncs the file, then writes the clean-shutdown marker next to it (fsm.db.clean, itself
// fsynced, holding the applied index and the checksum of the state it marks); Open removes the
// marker, durably, before its first write. A file without a marker, or whose applied index or
// checksum differ from the marker's, was not closed cleanly after its last write and is rebuilt
// from the raft snapshot and log by the node (node/statefile.go).

// cleanMark is the content of the clean-shutdown marker.
type cleanMark struct {
	AppliedIndex uint64 `json:"applied_index"`
	Checksum     string `json:"checksum"`
}

// CleanMarkPath is the clean-shutdown marker of the state file at path.
func CleanMarkPath(path string) string { return path + ".clean" }

// writeCleanMark writes the marker (to a temporary file, fsynced, then renamed over the marker
// and the directory fsynced): it exists whole or not at all.
func writeCleanMark(path string, m cleanMark) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := CleanMarkPath(path) + ".tmp"
	if err := writeFileSync(tmp, bytes.NewReader(b)); err != nil {
		return fmt.Errorf("fsm: write clean-shutdown marker: %w", err)
	}
	if err := os.Rename(tmp, CleanMarkPath(path)); err != nil {
		return fmt.Errorf("fsm: write clean-shutdown marker: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("fsm: write clean-shutdown marker: %w", err)
	}
	return nil
}

// removeCleanMark removes the marker, durably, before the state file is written again.
func removeCleanMark(path string) error {
	err := os.Remove(CleanMarkPath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fsm: remove clean-shutdown marker: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("fsm: remove clean-shutdown marker: %w", err)
	}
	return nil
}

// readCleanMark reads the marker of the state file at path; ok is false when there is none or
// it cannot be parsed (a marker is written whole, so that is not a clean shutdown either).
func readCleanMark(path string) (m cleanMark, ok bool, err error) {
	b, err := os.ReadFile(CleanMarkPath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return cleanMark{}, false, nil
	}
	if err != nil {
		return cleanMark{}, false, fmt.Errorf("fsm: read clean-shutdown marker: %w", err)
	}
	if json.Unmarshal(b, &m) != nil {
		return cleanMark{}, false, nil
	}
	return m, true, nil
}
