package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// ErrNotRunning: the node has no live process.
var ErrNotRunning = errors.New("cluster: node not running")

// process is one run of a node's server, in its own process group.
type process struct {
	cmd  *exec.Cmd
	pid  int
	done chan struct{}
}

// startProcess runs argv in its own process group with output appended to log.
func startProcess(argv []string, env []string, log *os.File) (*process, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cluster: start %s: %w", strings.Join(argv, " "), err)
	}
	p := &process{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the whole process group.
func (p *process) signal(sig syscall.Signal) error {
	if p.exited() {
		return ErrNotRunning
	}
	return syscall.Kill(-p.pid, sig)
}

// wait waits for the process to exit, at most d.
func (p *process) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return p.exited()
	}
}

// kill SIGKILLs the group and waits for the exit (bounded).
func (p *process) kill() error {
	if p.exited() {
		return nil
	}
	syscall.Kill(-p.pid, syscall.SIGKILL)
	if !p.wait(context.Background(), 10*time.Second) {
		return fmt.Errorf("cluster: pid %d survived SIGKILL for 10s", p.pid)
	}
	return nil
}

// stop asks the group to terminate (SIGCONT first, in case it is paused) and kills it after
// grace.
func (p *process) stop(grace time.Duration) error {
	if p.exited() {
		return nil
	}
	syscall.Kill(-p.pid, syscall.SIGCONT)
	syscall.Kill(-p.pid, syscall.SIGTERM)
	if p.wait(context.Background(), grace) {
		return nil
	}
	return p.kill()
}
