package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cellmap/cellmap/acl"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/poll"
	iproc "github.com/cellmap/cellmap/internal/proc"
)

// ErrNotReady is returned when a cluster does not become ready in time.
var ErrNotReady = errors.New("bench: cluster not ready")

// proc is a cellmapd child process (see internal/proc) with its log file.
type proc struct {
	*iproc.Process
}

func startProc(bin string, args []string, logPath string) (*proc, error) {
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p, err := iproc.Start(iproc.Spec{Argv: append([]string{bin}, args...), Out: lf})
	if err != nil {
		lf.Close()
		return nil, err
	}
	go func() {
		<-p.Done()
		lf.Close()
	}()
	return &proc{p}, nil
}

// kill is a crash: SIGKILL to the process group, then a (bounded) wait for the exit.
func (p *proc) kill() { _ = p.Kill() }

// stop sends SIGTERM and waits up to timeout before killing.
func (p *proc) stop(timeout time.Duration) { _ = p.Stop(timeout) }

// memory is a process's resident memory from /proc/PID/status: the total (VmRSS), its
// anonymous part (heap, stacks) and its file-backed part (mostly the mmap of fsm.db).
type memory struct{ rss, anon, file int64 }

func (p *proc) memory() (memory, error) { return readMemory(p.Pid()) }

func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	fields := map[string]*int64{"VmRSS:": &m.rss, "RssAnon:": &m.anon, "RssFile:": &m.file}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), "\t")
		if dst := fields[name]; ok && dst != nil {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return m, err
			}
			*dst = kb * 1024
		}
	}
	if m.rss == 0 {
		return m, fmt.Errorf("no VmRSS for pid %d", pid)
	}
	return m, sc.Err()
}

// FreeAddr returns a free 127.0.0.1 TCP address.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// localNode is one cellmapd process of a local cluster.
type localNode struct {
	id, dir, http, raft, gossip string
	p                           *proc
	c                           *client.Client
}

// localCluster is a cellmapd cluster on 127.0.0.1.
type localCluster struct {
	bin      string
	profile  string
	logLevel string
	nodes    []*localNode
	// token is the cluster's admin token, in tokenFile (--acl-bootstrap-token-file).
	token, tokenFile string
}

func newLocalCluster(bin, dir, profile string, n int) (*localCluster, error) {
	lc := &localCluster{bin: bin, profile: profile, logLevel: "info", tokenFile: filepath.Join(dir, "admin-token")}
	var err error
	if lc.token, err = acl.NewSecret(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(lc.tokenFile, []byte(lc.token+"\n"), 0o600); err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		nd := &localNode{id: fmt.Sprintf("n%d", i+1), dir: filepath.Join(dir, fmt.Sprintf("n%d", i+1))}
		for _, a := range []*string{&nd.http, &nd.raft, &nd.gossip} {
			addr, err := FreeAddr()
			if err != nil {
				return nil, err
			}
			*a = addr
		}
		if err := os.MkdirAll(nd.dir, 0o755); err != nil {
			return nil, err
		}
		nd.c = client.New(nd.http, nil).WithToken(lc.token)
		lc.nodes = append(lc.nodes, nd)
	}
	return lc, nil
}

// start runs node nd; extra is --bootstrap or --join ADDR on first start, nothing on restarts.
func (lc *localCluster) start(nd *localNode, extra ...string) error {
	args := append([]string{"--node-id", nd.id, "--data-dir", nd.dir, "--http-addr", nd.http, "--raft-addr", nd.raft,
		"--gossip-addr", nd.gossip, "--raft-profile", lc.profile, "--log-level", lc.logLevel,
		"--acl-bootstrap-token-file", lc.tokenFile}, extra...)
	p, err := startProc(lc.bin, args, nd.dir+".log")
	if err != nil {
		return err
	}
	nd.p = p
	return nil
}

// boot starts every node: the first bootstraps, the others join it.
func (lc *localCluster) boot(ctx context.Context) error {
	first := lc.nodes[0]
	if err := lc.start(first, "--bootstrap"); err != nil {
		return err
	}
	if err := poll.Until(ctx, 60*time.Second, func(c context.Context) bool { return first.c.Ready(c) == nil }); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrNotReady, first.id, err)
	}
	for _, nd := range lc.nodes[1:] {
		if err := lc.start(nd, "--join", first.http); err != nil {
			return err
		}
	}
	return WaitSecureCluster(ctx, lc.endpoints(), len(lc.nodes), 60*time.Second, &Security{TokenFile: lc.tokenFile})
}

func (lc *localCluster) endpoints() []string {
	var out []string
	for _, nd := range lc.nodes {
		out = append(out, nd.http)
	}
	return out
}

// leader returns the node that leads, or nil.
func (lc *localCluster) leader(ctx context.Context) *localNode {
	for _, nd := range lc.nodes {
		st, err := status(ctx, nd)
		if err == nil && st.State == "Leader" {
			return nd
		}
	}
	return nil
}

func (lc *localCluster) stopAll() {
	for _, nd := range lc.nodes {
		if nd.p != nil {
			nd.p.stop(10 * time.Second)
		}
	}
}

func status(ctx context.Context, nd *localNode) (*api.ClusterStatus, error) {
	c, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return nd.c.ClusterStatus(c)
}

// WaitCluster waits until every endpoint reports voters voters and a leader, and serves a
// linearizable read.
func WaitCluster(ctx context.Context, endpoints []string, voters int, timeout time.Duration) error {
	return WaitSecureCluster(ctx, endpoints, voters, timeout, nil)
}

// WaitSecureCluster is WaitCluster over TLS with the security material of sec.
func WaitSecureCluster(ctx context.Context, endpoints []string, voters int, timeout time.Duration, sec *Security) error {
	t, err := NewSecureCellmapTarget(endpoints, sec, RouteWritesAny)
	if err != nil {
		return err
	}
	for _, c := range t.clients {
		err := poll.Until(ctx, timeout, func(ctx context.Context) bool {
			st, err := c.ClusterStatus(ctx)
			if err != nil || st.LeaderHTTPAddr == "" || countVoters(st) < voters {
				return false
			}
			_, _, err = c.InstanceMapping(ctx, Key(0))
			return err == nil || client.IsNotFound(err)
		})
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrNotReady, c.Addr(), err)
		}
	}
	return nil
}

// dirSize is the total size of the regular files under path (0 if it does not exist).
func dirSize(path string) int64 {
	var n int64
	_ = filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// countVoters counts the voters of a status (a joined node is a non-voter until autopilot
// promotes it).
func countVoters(st *api.ClusterStatus) int {
	n := 0
	for _, s := range st.Servers {
		if s.Suffrage == "Voter" {
			n++
		}
	}
	return n
}
