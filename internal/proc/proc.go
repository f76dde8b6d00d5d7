// Package proc runs child processes the way cellmap's harnesses need them (the integration
// tests, the benchmark driver and the chaos harness): each in a process group of its own, so
// that signals reach everything it started, and killed if the parent dies first.
package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// ErrExited: the process has already exited.
var ErrExited = errors.New("proc: process has exited")

// killWait bounds the wait for a process group to go after SIGKILL.
const killWait = 10 * time.Second

// Spec is what to run.
type Spec struct {
	// Argv is the command and its arguments.
	Argv []string
	// Env is the environment (nil: this process's).
	Env []string
	// Out receives the process's stdout and stderr (nil: discarded).
	Out io.Writer
}

// Process is a running (or exited) child process, leader of its own process group.
type Process struct {
	cmd  *exec.Cmd
	pid  int
	done chan struct{}
	err  error
}

// Start runs s in a new process group that gets SIGKILL when this process dies.
func Start(s Spec) (*Process, error) {
	if len(s.Argv) == 0 {
		return nil, errors.New("proc: empty command")
	}
	cmd := exec.Command(s.Argv[0], s.Argv[1:]...)
	cmd.Env = s.Env
	cmd.Stdout, cmd.Stderr = s.Out, s.Out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("proc: start %s: %w", strings.Join(s.Argv, " "), err)
	}
	p := &Process{cmd: cmd, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id (also the process group id).
func (p *Process) Pid() int { return p.pid }

// Done is closed once the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is how the process exited (nil while it runs, or after a zero exit status).
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// Signal sends sig to the whole process group; ErrExited once the process has exited.
func (p *Process) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return ErrExited
	}
	return syscall.Kill(-p.pid, sig)
}

// Wait waits at most d for the process to exit, or until ctx ends; it reports whether the
// process has exited.
func (p *Process) Wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return p.Exited()
	}
}

// Kill sends SIGKILL to the process group and waits (bounded) for the process to exit.
func (p *Process) Kill() error {
	if err := p.Signal(syscall.SIGKILL); errors.Is(err, ErrExited) {
		return nil
	}
	if !p.Wait(context.Background(), killWait) {
		return fmt.Errorf("proc: pid %d survived SIGKILL for %v", p.pid, killWait)
	}
	return nil
}

// Stop asks the process group to terminate (SIGCONT first, in case it is paused, then
// SIGTERM) and kills it when it has not exited after grace.
func (p *Process) Stop(grace time.Duration) error {
	if p.Signal(syscall.SIGCONT) != nil {
		return nil
	}
	_ = p.Signal(syscall.SIGTERM)
	if p.Wait(context.Background(), grace) {
		return nil
	}
	return p.Kill()
}
