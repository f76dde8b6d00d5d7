package backup

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// fsmSource backs up an FSM, or fails with err when set.
type fsmSource struct {
	f   *fsm.FSM
	mu  sync.Mutex
	err error
}

func (s *fsmSource) Backup(_ context.Context, w io.Writer) (*Header, error) {
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var h *Header
	return h, s.f.View(func(r *fsm.Reader) error {
		h = &Header{RaftIndex: r.AppliedIndex(), RaftTerm: 1, FSMChecksum: r.Checksum(), StateSize: r.Size(), Created: time.Now().UTC(), NodeID: "n1"}
		return Write(w, h, r)
	})
}

func (s *fsmSource) fail(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"default", func(*Config) {}, ""},
		{"no dir", func(c *Config) { c.Dir = "" }, "Dir is required"},
		{"interval too short", func(c *Config) { c.Interval = time.Millisecond }, "shorter than 100ms"},
		{"keep zero", func(c *Config) { c.Keep = 0 }, "Keep must be at least 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig("/var/lib/cellmap/backups")
			c.edit(cfg)
			err := cfg.Validate()
			if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

func TestPeriodicOnceKeepsAndReports(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backups")
	src := &fsmSource{f: stateWithCells(t, 2)}
	cfg := DefaultConfig(dir)
	cfg.Keep = 2
	p, err := NewPeriodic(cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	// Distinct, increasing file names without waiting: a clock that moves a second per call.
	clock := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	p.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	// A leftover of a crash is removed by the next success.
	stale := filepath.Join(dir, "cellmap-20261205T050000.000Z.backup.tmp")
	os.WriteFile(stale, []byte("half"), 0o600)

	for range 3 {
		if _, err := p.Once(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	files := p.files()
	if len(files) != 2 {
		t.Fatalf("kept %q, want 2 files", files)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the stale temporary file is still there: %v", err)
	}
	st := p.Status()
	if st.LastFile != files[1] || st.LastSuccess.IsZero() || st.LastError != "" || st.LastIndex != 5 {
		t.Fatalf("status %+v, files %q", st, files)
	}
	for _, f := range files {
		if _, err := Verify(f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}

	// A failure is reported and logged, and keeps the last success.
	src.fail(errors.New("no cluster leader"))
	if _, err := p.Once(context.Background()); err == nil {
		t.Fatal("a failing source succeeded")
	}
	st2 := p.Status()
	if st2.LastError == "" || !strings.Contains(st2.LastError, "no cluster leader") || st2.Failures != 1 || st2.LastSuccess != st.LastSuccess {
		t.Fatalf("status after a failure: %+v", st2)
	}
	if got := p.files(); len(got) != 2 || got[1] != files[1] {
		t.Fatalf("a failure changed the files: %q", got)
	}
	assertNoTemp(t, dir)
	src.fail(nil)
	if _, err := p.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st3 := p.Status(); st3.LastError != "" || st3.Failures != 1 {
		t.Fatalf("status after recovering: %+v", st3)
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), fileSuffix) {
			t.Fatalf("left behind: %s", e.Name())
		}
	}
}

func TestPeriodicRunUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig(dir)
	cfg.Interval, cfg.Keep = 100*time.Millisecond, 3
	p, err := NewPeriodic(cfg, &fsmSource{f: stateWithCells(t, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	testkit.WaitFor(t, "three periodic backups", 30*time.Second, func() bool {
		return len(p.files()) == 3 && !p.Status().LastSuccess.IsZero()
	})
	cancel()
	<-done
	if st := p.Status(); st.Failures != 0 {
		t.Fatalf("failures: %+v", st)
	}
}

// TestPeriodicContinuesTheSchedule: a new leader takes its first backup an interval after the
// newest file, at once when there is none.
func TestPeriodicContinuesTheSchedule(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig(dir)
	cfg.Interval = time.Hour
	p, err := NewPeriodic(cfg, &fsmSource{f: stateWithCells(t, 1)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	if got := p.firstDue(); !got.Equal(now) {
		t.Fatalf("first backup with no file: %v, want now (%v)", got, now)
	}
	if _, err := p.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	written := now.Add(-10 * time.Minute)
	if err := os.Chtimes(p.files()[0], written, written); err != nil {
		t.Fatal(err)
	}
	if got, want := p.firstDue(), written.Add(time.Hour); !got.Equal(want) {
		t.Fatalf("first backup after a file of %v: %v, want %v", written, got, want)
	}
}
