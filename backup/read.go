package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/cellmap/cellmap/fsm"
)

// Info is what a verified backup holds: its header and a summary of its state.
type Info struct {
	Header  Header
	Summary *fsm.Summary
}

// Extracted is a verified backup whose state was written to a file of its own.
type Extracted struct {
	Info
	// Path is the state file (a bbolt file, as a raft snapshot holds it).
	Path string
}

// Remove deletes the state file.
func (e *Extracted) Remove() error { return os.Remove(e.Path) }

// WriteBackup writes the backup again (the same bytes it was read from).
func (e *Extracted) WriteBackup(w io.Writer) error {
	h := e.Header
	return Write(w, &h, stateFile(e.Path))
}

// stateFile is a state file as a backup's body.
type stateFile string

func (p stateFile) WriteTo(w io.Writer) (int64, error) {
	f, err := os.Open(string(p))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(w, f)
}

// extractPattern names the state files Extract writes.
const extractPattern = ".cellmap-backup-state-*.db"

// Extract reads a backup from r, writes its state to a new file in dir ("" for the system's
// temporary directory) and verifies it: the structure and the trailing hash as the bytes
// pass, then the state file and its index and checksum against the header. A backup that
// fails is refused with an error wrapping [ErrCorrupt] and leaves no file; a failure to read
// r or to write the file is returned as it is. The caller removes the file (Extracted.Remove).
func Extract(r io.Reader, dir string) (*Extracted, error) {
	sum := sha256.New()
	tr := io.TeeReader(r, sum)
	h, err := readHeader(tr)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, extractPattern)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	ex := &Extracted{Info: Info{Header: *h}, Path: f.Name()}
	err = copyState(f, tr, h.StateSize)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("backup: %w", cerr)
	}
	if err == nil {
		err = checkTrailer(r, sum)
	}
	if err == nil {
		ex.Summary, err = checkState(ex.Path, h)
	}
	if err != nil {
		os.Remove(ex.Path)
		return nil, err
	}
	return ex, nil
}

// Verify checks the backup file at path offline and returns what it holds.
func Verify(path string) (*Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	ex, err := Extract(f, "")
	if err != nil {
		return nil, err
	}
	ex.Remove()
	return &ex.Info, nil
}

// corruptf is a refusal of the backup.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// short reports an early end of the input.
func short(err error) bool { return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) }

// readHeader reads the magic, the version and the header.
func readHeader(r io.Reader) (*Header, error) {
	var prefix [prefixLen]byte
	if n, err := io.ReadFull(r, prefix[:]); short(err) {
		if n == 0 {
			return nil, corruptf("the file is empty")
		}
		if m := min(n, len(magic)); !bytes.Equal(prefix[:m], magic[:m]) {
			return nil, corruptf("not a cellmap backup (it does not start with %q)", magic[:])
		}
		return nil, corruptf("truncated: %d bytes, shorter than a backup's prefix", n)
	} else if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if !bytes.Equal(prefix[:len(magic)], magic[:]) {
		return nil, corruptf("not a cellmap backup (it does not start with %q)", magic[:])
	}
	version := binary.BigEndian.Uint16(prefix[len(magic):])
	switch {
	case version > FormatVersion:
		return nil, corruptf("format version %d is newer than this release reads (%d); use a newer cellmapctl", version, FormatVersion)
	case version == 0:
		return nil, corruptf("format version 0")
	}
	hlen := binary.BigEndian.Uint32(prefix[len(magic)+2:])
	if hlen == 0 || hlen > maxHeader {
		return nil, corruptf("header length %d is out of range", hlen)
	}
	raw := make([]byte, hlen)
	if _, err := io.ReadFull(r, raw); short(err) {
		return nil, corruptf("truncated inside the header")
	} else if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	var h Header
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, corruptf("header: %v", err)
	}
	if err := h.check(); err != nil {
		return nil, err
	}
	return &h, nil
}

// copyState copies the body, exactly size bytes.
func copyState(w io.Writer, r io.Reader, size int64) error {
	n, err := io.CopyN(w, r, size)
	switch {
	case short(err):
		return corruptf("truncated: the state ends after %d of %d bytes", n, size)
	case err != nil:
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// checkTrailer reads the trailing hash from r (not hashed) and compares it, then requires
// the end of the input.
func checkTrailer(r io.Reader, sum hash.Hash) error {
	want := sum.Sum(nil)
	var got [trailerLen]byte
	if n, err := io.ReadFull(r, got[:]); short(err) {
		return corruptf("truncated: %d of the %d bytes of the trailing hash", n, trailerLen)
	} else if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if !bytes.Equal(got[:], want) {
		return corruptf("SHA-256 mismatch: the file was changed or damaged after it was written")
	}
	var one [1]byte
	if n, err := io.ReadFull(r, one[:]); n > 0 {
		return corruptf("bytes after the trailing hash")
	} else if err != nil && !short(err) {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// checkState verifies the state file and compares it with the header.
func checkState(path string, h *Header) (*fsm.Summary, error) {
	applied, err := fsm.Verify(path)
	if errors.Is(err, fsm.ErrDamaged) {
		return nil, corruptf("the state inside is damaged: %v", err)
	} else if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	s, err := fsm.Inspect(path)
	if err != nil {
		return nil, corruptf("the state inside cannot be read: %v", err)
	}
	if applied != h.RaftIndex || s.AppliedIndex != h.RaftIndex {
		return nil, corruptf("the state has applied index %d, the header says %d", applied, h.RaftIndex)
	}
	if s.Checksum != h.FSMChecksum {
		return nil, corruptf("the state's checksum is %s, the header says %s", s.Checksum, h.FSMChecksum)
	}
	return s, nil
}
