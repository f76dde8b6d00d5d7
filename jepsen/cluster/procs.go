package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/cellmap/cellmap/internal/proc"
)

// ErrUnknownProc: no extra process has that name.
var ErrUnknownProc = errors.New("cluster: unknown process")

// Proc is an extra process of a run beside the nodes (e.g. a cell conductor): a command run
// inside a network namespace of its own, in its own process group, with its output appended
// to Dir/<name>.log. The cluster stops it with the nodes (Shutdown).
type Proc struct {
	Name    string
	NS      string
	Argv    []string
	LogPath string

	mu      sync.Mutex
	proc    *proc.Process
	starts  int
	logFile *os.File
}

// StartProc runs argv inside namespace ns as the extra process called name, unless it is
// running. The command line is remembered for RestartProc.
func (c *Cluster) StartProc(name, ns string, argv []string) error {
	if name == "" || len(argv) == 0 || ns == "" {
		return errors.New("cluster: StartProc needs a name, a namespace and a command")
	}
	c.procMu.Lock()
	p := c.procs[name]
	if p == nil {
		p = &Proc{Name: name, LogPath: filepath.Join(c.cfg.Dir, name+".log")}
		c.procs[name] = p
	}
	c.procMu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.NS, p.Argv = ns, append([]string(nil), argv...)
	return c.startProcLocked(p)
}

func (c *Cluster) startProcLocked(p *Proc) error {
	if p.proc != nil && !p.proc.Exited() {
		return nil
	}
	if p.logFile == nil {
		if err := os.MkdirAll(filepath.Dir(p.LogPath), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		p.logFile = f
	}
	argv := append([]string{"ip", "netns", "exec", p.NS}, p.Argv...)
	fmt.Fprintf(p.logFile, "=== cellmap-jepsen: start #%d at %s: %v\n", p.starts+1, time.Now().Format(time.RFC3339Nano), argv)
	pr, err := proc.Start(proc.Spec{Argv: argv, Env: c.env(), Out: p.logFile})
	if err != nil {
		return err
	}
	p.proc = pr
	p.starts++
	return nil
}

func (c *Cluster) proc(name string) (*Proc, error) {
	c.procMu.Lock()
	defer c.procMu.Unlock()
	p := c.procs[name]
	if p == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownProc, name)
	}
	return p, nil
}

// RestartProc SIGKILLs the extra process name (its whole group) and starts it again with the
// same command line.
func (c *Cluster) RestartProc(name string) error {
	p, err := c.proc(name)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil {
		if err := p.proc.Kill(); err != nil {
			return err
		}
	}
	return c.startProcLocked(p)
}

// EnsureProc starts the extra process name again with its command line when it is not
// running; it reports whether it had to.
func (c *Cluster) EnsureProc(name string) (bool, error) {
	p, err := c.proc(name)
	if err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc != nil && !p.proc.Exited() {
		return false, nil
	}
	return true, c.startProcLocked(p)
}

// ProcRunning reports whether the extra process name is running.
func (c *Cluster) ProcRunning(name string) bool {
	p, err := c.proc(name)
	if err != nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.proc != nil && !p.proc.Exited()
}

// ProcNames lists the extra processes, sorted.
func (c *Cluster) ProcNames() []string {
	c.procMu.Lock()
	defer c.procMu.Unlock()
	var out []string
	for n := range c.procs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// stopProcs stops every extra process (SIGTERM, SIGKILL after grace) and closes its log.
func (c *Cluster) stopProcs(grace time.Duration) error {
	c.procMu.Lock()
	procs := make([]*Proc, 0, len(c.procs))
	for _, p := range c.procs {
		procs = append(procs, p)
	}
	c.procMu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(procs))
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.proc != nil {
				errs[i] = p.proc.Stop(grace)
			}
			if p.logFile != nil {
				p.logFile.Close()
				p.logFile = nil
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
