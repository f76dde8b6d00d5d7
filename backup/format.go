package backup

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// FormatVersion is the version of the format this release writes and the newest it reads.
const FormatVersion = 1

// magic starts every backup.
var magic = [8]byte{'C', 'M', 'B', 'A', 'C', 'K', 'U', 'P'}

const (
	// maxHeader bounds the header's length (it is a few hundred bytes).
	maxHeader = 64 << 10
	// prefixLen is the magic, the version and the header length.
	prefixLen = len(magic) + 2 + 4
	// trailerLen is the SHA-256 at the end.
	trailerLen = sha256.Size
)

// ErrCorrupt: the backup is damaged, truncated, not a backup, or of a newer format; nothing
// was restored from it.
var ErrCorrupt = errors.New("backup is not valid")

// Header describes a backup.
type Header struct {
	// FormatVersion is the format the file is written in.
	FormatVersion int `json:"format_version"`
	// RaftIndex is the raft index the state reflects (its applied index) and RaftTerm the
	// raft term of the node that took it, at the time.
	RaftIndex uint64 `json:"raft_index"`
	RaftTerm  uint64 `json:"raft_term"`
	// FSMChecksum is the state checksum (16 hex digits, as in cluster status).
	FSMChecksum string `json:"fsm_checksum"`
	// StateSize is the size of the body in bytes.
	StateSize int64 `json:"state_size"`
	// Created is when the backup was taken (UTC); NodeID the node that took it.
	Created time.Time `json:"created"`
	NodeID  string    `json:"node_id"`
}

// check refuses a header that cannot describe a backup.
func (h *Header) check() error {
	switch {
	case h.FormatVersion != FormatVersion:
		return fmt.Errorf("%w: header says format version %d, the file's prefix %d", ErrCorrupt, h.FormatVersion, FormatVersion)
	case h.RaftIndex == 0:
		return fmt.Errorf("%w: raft index 0 (a state that has applied nothing)", ErrCorrupt)
	case h.StateSize <= 0:
		return fmt.Errorf("%w: state size %d", ErrCorrupt, h.StateSize)
	case len(h.FSMChecksum) != 16:
		return fmt.Errorf("%w: FSM checksum %q is not 16 hex digits", ErrCorrupt, h.FSMChecksum)
	}
	return nil
}

// Body is the state a backup holds: *fsm.Reader, or a state file.
type Body interface {
	io.WriterTo
}

// Write writes a backup of body, described by h, to w. h.StateSize must be the number of
// bytes body writes; h.FormatVersion is set. The trailing hash covers everything written.
func Write(w io.Writer, h *Header, body Body) error {
	h.FormatVersion = FormatVersion
	if err := h.check(); err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	sum := sha256.New()
	out := io.MultiWriter(w, sum)
	prefix := make([]byte, 0, prefixLen)
	prefix = append(prefix, magic[:]...)
	prefix = binary.BigEndian.AppendUint16(prefix, FormatVersion)
	prefix = binary.BigEndian.AppendUint32(prefix, uint32(len(hdr)))
	if _, err := out.Write(prefix); err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	if _, err := out.Write(hdr); err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	n, err := body.WriteTo(out)
	if err != nil {
		return fmt.Errorf("backup: write state: %w", err)
	}
	if n != h.StateSize {
		return fmt.Errorf("backup: write: the state was %d bytes, the header says %d", n, h.StateSize)
	}
	if _, err := w.Write(sum.Sum(nil)); err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	return nil
}
