package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Source takes consistent backups (a *node.Node).
type Source interface {
	Backup(ctx context.Context, w io.Writer) (*Header, error)
}

// Config configures [Periodic].
type Config struct {
	// Dir receives the backups, named cellmap-<UTC time>.backup.
	Dir string
	// Interval is the time between two backups.
	Interval time.Duration
	// Keep is how many backups stay in Dir; older ones are removed after each success.
	Keep int
	// Logger receives failures (ERROR) and successes (INFO); nil discards.
	Logger hclog.Logger
}

// DefaultConfig returns hourly backups kept for a day, into dir.
func DefaultConfig(dir string) *Config {
	return &Config{Dir: dir, Interval: time.Hour, Keep: 24}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Dir == "":
		return errors.New("backup: Dir is required")
	case c.Interval < 100*time.Millisecond:
		return fmt.Errorf("backup: Interval %v is shorter than 100ms", c.Interval)
	case c.Keep < 1:
		return fmt.Errorf("backup: Keep must be at least 1, not %d", c.Keep)
	}
	return nil
}

// Status is the outcome of the periodic backups so far.
type Status struct {
	// LastSuccess is when the last backup was written (zero: none yet), LastFile its path and
	// LastIndex its raft index.
	LastSuccess time.Time
	LastFile    string
	LastIndex   uint64
	// LastError is the last failure ("" when the last attempt succeeded) and LastErrorTime
	// when it happened; Failures counts every failure since start.
	LastError     string
	LastErrorTime time.Time
	Failures      uint64
}

// Periodic writes a backup every Interval while it runs (on the leader: node.RunAsLeader)
// and keeps the newest Keep files.
type Periodic struct {
	cfg    Config
	src    Source
	logger hclog.Logger
	now    func() time.Time

	mu     sync.Mutex
	status Status
}

// NewPeriodic checks cfg and creates Dir (mode 0700) when missing.
func NewPeriodic(cfg *Config, src Source) (*Periodic, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	p := &Periodic{cfg: *cfg, src: src, logger: cfg.Logger, now: time.Now}
	if p.logger == nil {
		p.logger = hclog.NewNullLogger()
	}
	return p, nil
}

// Status returns the outcome of the backups so far.
func (p *Periodic) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// Run writes a backup every Interval until ctx ends. The first one is due Interval after
// the newest file in Dir (at once when there is none), so a new leader continues the
// schedule instead of starting it over.
func (p *Periodic) Run(ctx context.Context) {
	next := p.firstDue()
	for {
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		p.Once(ctx)
		next = p.now().Add(p.cfg.Interval)
	}
}

// Once writes one backup now and removes the files beyond Keep. The outcome goes to Status
// and the log.
func (p *Periodic) Once(ctx context.Context) (*Info, error) {
	path := filepath.Join(p.cfg.Dir, filePrefix+p.now().UTC().Format(fileTime)+fileSuffix)
	info, err := WriteFile(path, func(w io.Writer) error {
		_, err := p.src.Backup(ctx, w)
		return err
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.status.LastError, p.status.LastErrorTime = err.Error(), p.now()
		p.status.Failures++
		p.logger.Error("periodic backup failed", "error", err, "failures", p.status.Failures)
		return nil, err
	}
	p.status.LastSuccess, p.status.LastFile, p.status.LastIndex, p.status.LastError = p.now(), path, info.Header.RaftIndex, ""
	p.logger.Info("backup written", "file", path, "raft_index", info.Header.RaftIndex, "fsm_checksum", info.Header.FSMChecksum,
		"bytes", info.Header.StateSize)
	p.prune()
	return info, nil
}

// Names of the periodic backups: the prefix and a sortable UTC time.
const (
	filePrefix = "cellmap-"
	fileSuffix = ".backup"
	fileTime   = "20060102T150405.000Z"
)

// files lists the backups in Dir, oldest first (their names sort by time).
func (p *Periodic) files() []string {
	matches, _ := filepath.Glob(filepath.Join(p.cfg.Dir, filePrefix+"*"+fileSuffix))
	sort.Strings(matches)
	return matches
}

// firstDue is when Run takes its first backup: Interval after the newest file in Dir, now
// when there is none.
func (p *Periodic) firstDue() time.Time {
	if newest, ok := p.newest(); ok {
		return newest.Add(p.cfg.Interval)
	}
	return p.now()
}

// newest returns the modification time of the newest backup in Dir.
func (p *Periodic) newest() (time.Time, bool) {
	fs := p.files()
	if len(fs) == 0 {
		return time.Time{}, false
	}
	st, err := os.Stat(fs[len(fs)-1])
	if err != nil {
		return time.Time{}, false
	}
	return st.ModTime(), true
}

// prune removes the oldest backups beyond Keep, and temporary files a crash left behind.
func (p *Periodic) prune() {
	fs := p.files()
	for len(fs) > p.cfg.Keep {
		if err := os.Remove(fs[0]); err != nil {
			p.logger.Warn("cannot remove an old backup", "file", fs[0], "error", err)
		}
		fs = fs[1:]
	}
	for _, pattern := range []string{filePrefix + "*" + fileSuffix + ".tmp", extractPattern} {
		stale, _ := filepath.Glob(filepath.Join(p.cfg.Dir, pattern))
		for _, f := range stale {
			os.Remove(f)
		}
	}
}
