// Package audit writes cellmap's audit log: one JSON line per write request and per refused
// (401/403) request, to a file rotated by size. A line names who did what (accessor id, role,
// method, route template, status, remote address, request id), never a token, a password or a
// query string.
package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Entry is one line of the audit log.
type Entry struct {
	Time       time.Time `json:"time"`
	RequestID  string    `json:"request_id"`
	AccessorID string    `json:"accessor_id,omitempty"`
	Role       string    `json:"role,omitempty"`
	Node       string    `json:"node,omitempty"`
	Method     string    `json:"method"`
	Path       string    `json:"path"` // the route template, e.g. /v1/cells/{uuid}
	Status     int       `json:"status"`
	RemoteAddr string    `json:"remote_addr"`
}

// Config configures the log.
type Config struct {
	// Path is the log file; rotated files are Path.1 (newest) to Path.<Keep>.
	Path string
	// MaxBytes is the size at which the file is rotated.
	MaxBytes int64
	// Keep is how many rotated files are kept.
	Keep int
}

// DefaultConfig returns 64 MiB files, 5 kept; Path is left to fill.
func DefaultConfig() *Config { return &Config{MaxBytes: 64 << 20, Keep: 5} }

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Path == "":
		return errors.New("audit: Path is required")
	case c.MaxBytes < 1024:
		return errors.New("audit: MaxBytes must be at least 1024")
	case c.Keep < 1:
		return errors.New("audit: Keep must be at least 1")
	}
	return nil
}

// Log is an audit log file; safe for concurrent use. Lines are written whole with one write
// each and not fsynced one by one (the operating system writes them out; Close syncs), so a
// machine crash may lose the last lines but never leaves a partial line.
type Log struct {
	cfg  Config
	mu   sync.Mutex
	f    *os.File
	size int64
}

// Open opens (appending) or creates the log file, mode 0600.
func Open(cfg *Config) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Log{cfg: *cfg}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Log) open() error {
	f, err := os.OpenFile(l.cfg.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("audit: %w", err)
	}
	l.f, l.size = f, info.Size()
	return nil
}

// Record writes e as one line, rotating first when the line would take the file past MaxBytes.
func (l *Log) Record(e Entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errors.New("audit: log closed")
	}
	if l.size > 0 && l.size+int64(len(line)) > l.cfg.MaxBytes {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	n, err := l.f.Write(line)
	l.size += int64(n)
	return err
}

// rotate moves Path.k to Path.k+1 (dropping the oldest), Path to Path.1, and starts a new Path.
func (l *Log) rotate() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	l.f = nil
	_ = os.Remove(l.rotated(l.cfg.Keep))
	for k := l.cfg.Keep - 1; k >= 1; k-- {
		if err := os.Rename(l.rotated(k), l.rotated(k+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("audit: %w", err)
		}
	}
	if err := os.Rename(l.cfg.Path, l.rotated(1)); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return l.open()
}

func (l *Log) rotated(k int) string { return fmt.Sprintf("%s.%d", l.cfg.Path, k) }

// Close syncs and closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := errors.Join(l.f.Sync(), l.f.Close())
	l.f = nil
	return err
}
