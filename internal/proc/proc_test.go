package proc

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func start(t *testing.T, out *Buffer, argv ...string) *Process {
	t.Helper()
	s := Spec{Argv: argv}
	if out != nil {
		s.Out = out
	}
	p, err := Start(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill() })
	return p
}

func TestOutputAndExit(t *testing.T) {
	var out Buffer
	p := start(t, &out, "sh", "-c", "echo out; echo err >&2; exit 3")
	if !p.Wait(context.Background(), 30*time.Second) {
		t.Fatal("sh did not exit within 30s")
	}
	if got := out.String(); !strings.Contains(got, "out\n") || !strings.Contains(got, "err\n") {
		t.Fatalf("output %q", got)
	}
	if p.Err() == nil || !strings.Contains(p.Err().Error(), "exit status 3") {
		t.Fatalf("exit: %v", p.Err())
	}
	if err := p.Signal(syscall.SIGTERM); !errors.Is(err, ErrExited) {
		t.Fatalf("signal after exit: %v, want ErrExited", err)
	}
	if err := p.Kill(); err != nil {
		t.Fatalf("kill after exit: %v", err)
	}
}

// Kill reaches the whole process group: a child the process started goes too.
func TestKillTakesTheGroup(t *testing.T) {
	var out Buffer
	p := start(t, &out, "sh", "-c", "sleep 60 & echo $!; wait")
	var child int
	deadline := time.Now().Add(30 * time.Second)
	for child == 0 && time.Now().Before(deadline) {
		child, _ = strconv.Atoi(strings.TrimSpace(out.String()))
		if child == 0 {
			p.Wait(context.Background(), 10*time.Millisecond)
		}
	}
	if child == 0 {
		t.Fatalf("no child pid printed: %q", out.String())
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if !p.Exited() {
		t.Fatal("not exited after Kill")
	}
	for time.Now().Before(deadline) {
		if err := syscall.Kill(child, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		p.Wait(context.Background(), 10*time.Millisecond)
	}
	t.Fatalf("child %d of the group survived Kill", child)
}

// Stop terminates gracefully (SIGTERM), also a paused process (SIGCONT first); a process that
// ignores SIGTERM is killed after the grace period.
func TestStop(t *testing.T) {
	for _, tc := range []struct {
		name   string
		argv   []string
		pause  bool
		killed bool
	}{
		{"terminates", []string{"sleep", "60"}, false, false},
		{"paused", []string{"sleep", "60"}, true, false},
		{"ignores SIGTERM", []string{"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out Buffer
			p := start(t, &out, tc.argv...)
			if tc.killed { // the trap must be set before the signal comes
				deadline := time.Now().Add(30 * time.Second)
				for !strings.Contains(out.String(), "ready") && time.Now().Before(deadline) {
					p.Wait(context.Background(), 10*time.Millisecond)
				}
			}
			if tc.pause {
				if err := p.Signal(syscall.SIGSTOP); err != nil {
					t.Fatal(err)
				}
			}
			grace := 30 * time.Second // Stop returns as soon as the process exited
			if tc.killed {
				grace = 100 * time.Millisecond
			}
			if err := p.Stop(grace); err != nil {
				t.Fatal(err)
			}
			if !p.Exited() {
				t.Fatal("not exited after Stop")
			}
			want := "signal: terminated"
			if tc.killed {
				want = "signal: killed"
			}
			if p.Err() == nil || p.Err().Error() != want {
				t.Fatalf("exit %v, want %s", p.Err(), want)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	if _, err := Start(Spec{}); err == nil {
		t.Fatal("empty command started")
	}
	if _, err := Start(Spec{Argv: []string{"/nonexistent/cellmap-no-such-binary"}}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing binary: %v", err)
	}
}
