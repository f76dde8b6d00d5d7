package etcdbench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cellmap/cellmap/bench"
	"github.com/cellmap/cellmap/internal/poll"
)

// The etcd side of the watch benchmark (cellmap-bench watch, issue 12): one etcd member, the
// streams are etcd watches on the probe key (held by etcd-bench watch-fleet processes, one
// gRPC connection per WatchersPerConn watches, as services share a client), the creates are
// Puts of other keys (which those watches filter out on the server), a probe is a Put of the
// probe key whose value is bench.ProbePrefix + the send time.

// ProbeKey is the key every etcd stream watches.
const ProbeKey = "/cellmap-bench/watch-probe"

// WatchersPerConn is how many watches a fleet puts on one client connection.
const WatchersPerConn = 100

type etcdWatch struct {
	cmd        *exec.Cmd
	done       chan struct{}
	addr       string
	t          *Target
	stopOnce   sync.Once
	clientLogs *os.File
}

// WatchSystem starts the etcd binary bin under the watch benchmark (query is unused: etcd's
// streams watch ProbeKey).
func WatchSystem(bin, _ string) bench.StartSystem {
	return func(ctx context.Context, dir string, _ int) (bench.WatchSystem, error) {
		addrs, err := freeAddrs(2)
		if err != nil {
			return nil, err
		}
		client, peer := "http://"+addrs[0], "http://"+addrs[1]
		logs, err := os.Create(filepath.Join(dir, "etcd.log"))
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(bin, "--name", "e1", "--data-dir", filepath.Join(dir, "etcd"),
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "e1="+peer,
			"--initial-cluster-state", "new", "--enable-pprof", "--logger", "zap", "--log-level", "warn")
		cmd.Stdout, cmd.Stderr = logs, logs
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			logs.Close()
			return nil, err
		}
		sys := &etcdWatch{cmd: cmd, done: make(chan struct{}), addr: addrs[0], clientLogs: logs}
		go func() { _ = cmd.Wait(); close(sys.done) }()
		if err := sys.setup(ctx); err != nil {
			sys.Stop()
			return nil, err
		}
		return sys, nil
	}
}

func (e *etcdWatch) setup(ctx context.Context) error {
	if err := WaitCluster(ctx, []string{e.addr}, 1, 60*time.Second); err != nil {
		return err
	}
	var err error
	e.t, err = New([]string{e.addr})
	return err
}

func (e *etcdWatch) Target() bench.Target { return e.t }

func (e *etcdWatch) Probe(ctx context.Context, name string) error {
	_, err := e.t.clients[0].Put(ctx, ProbeKey, name)
	return err
}

func (e *etcdWatch) FleetArgs(n int) []string {
	return []string{"watch-fleet", "--addr", e.addr, "--watchers", strconv.Itoa(n)}
}

// ServerPID is etcd's process, whose CPU time per create the benchmark reports.
func (e *etcdWatch) ServerPID() int { return e.cmd.Process.Pid }

func (e *etcdWatch) Memory(ctx context.Context) (rss, live int64) {
	select {
	case <-time.After(2 * time.Second):
	case <-ctx.Done():
	}
	return bench.ProcessMemory(e.cmd.Process.Pid), bench.LiveMemory(ctx, "http://"+e.addr)
}

// Stop ends etcd: SIGTERM, then SIGKILL to its process group after 10 s.
func (e *etcdWatch) Stop() {
	e.stopOnce.Do(func() {
		if e.t != nil {
			e.t.Close()
		}
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-e.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
			<-e.done
		}
		e.clientLogs.Close()
	})
}

func freeAddrs(n int) ([]string, error) {
	var out []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		out = append(out, ln.Addr().String())
		ln.Close()
	}
	return out, nil
}

// FleetCommand runs a fleet of etcd watches on ProbeKey (bench.ServeFleet).
func FleetCommand(ctx context.Context, prog string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(prog+" watch-fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:2379", "etcd's client address (loopback)")
	n := fs.Int("watchers", 1000, "watches to hold")
	limit := fs.Duration("max", 5*time.Minute, "end after this even if stdin stays open")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := bench.CheckLoopback(*addr); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 2
	}
	conns := &connPool{addr: *addr}
	defer conns.close()
	return bench.ServeFleet(ctx, *n, *limit, stdin, stdout, conns.open)
}

// connPool hands out one client per WatchersPerConn watches.
type connPool struct {
	addr    string
	mu      sync.Mutex
	clients []*clientv3.Client
	used    int
}

func (p *connPool) client() (*clientv3.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.used%WatchersPerConn == 0 {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{p.addr}, DialTimeout: 5 * time.Second})
		if err != nil {
			return nil, err
		}
		p.clients = append(p.clients, c)
	}
	p.used++
	return p.clients[len(p.clients)-1], nil
}

func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.clients {
		c.Close()
	}
}

// open starts one watch and returns once etcd confirmed it.
func (p *connPool) open(ctx context.Context) (bench.FleetStream, error) {
	c, err := p.client()
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	ch := c.Watch(wctx, ProbeKey, clientv3.WithCreatedNotify())
	var created bool
	err = poll.Until(ctx, 30*time.Second, func(context.Context) bool {
		select {
		case r, ok := <-ch:
			created = ok && r.Created
			return true
		default:
			return false
		}
	})
	if err != nil || !created {
		cancel()
		return nil, errors.Join(errors.New("etcd watch not created"), err)
	}
	return &etcdStream{ch: ch, cancel: cancel}, nil
}

type etcdStream struct {
	ch      clientv3.WatchChan
	cancel  context.CancelFunc
	pending []int64
}

func (s *etcdStream) Close() { s.cancel() }

func (s *etcdStream) NextProbe() (int64, error) {
	for len(s.pending) == 0 {
		r, ok := <-s.ch
		if !ok {
			return 0, errors.New("watch ended")
		}
		if err := r.Err(); err != nil {
			return 0, err
		}
		for _, ev := range r.Events {
			if sent, ok := bench.ParseProbe(ev.Kv.Value); ok {
				s.pending = append(s.pending, sent)
			}
		}
	}
	sent := s.pending[0]
	s.pending = s.pending[1:]
	return sent, nil
}
