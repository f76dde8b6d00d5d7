package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cellmap/cellmap/transport"

	"github.com/cellmap/cellmap/acl"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/proc"
	"github.com/cellmap/cellmap/jepsen/netns"
)

// Sentinel errors.
var (
	// ErrUnknownNode: no node has that id.
	ErrUnknownNode = errors.New("cluster: unknown node")
	// ErrNoLeader: no node says it leads.
	ErrNoLeader = errors.New("cluster: no leader")
	// ErrNotConverged: the nodes did not reach one leader and equal state in time.
	ErrNotConverged = errors.New("cluster: not converged")
	// ErrDiverged: two nodes hold different state at the same applied index.
	ErrDiverged = errors.New("cluster: replicas diverged")
	// ErrNotRunning: the node has no live process.
	ErrNotRunning = errors.New("cluster: node not running")
)

// Config configures a [Cluster].
type Config struct {
	// Nodes is the number of cellmapd nodes (ids n1..nN, node i at netns.IP(i)).
	Nodes int
	// Binary is the cellmapd executable.
	Binary string
	// Dir holds node data (Dir/nI/data) and logs (Dir/nI.log).
	Dir string
	// HTTPPort, RaftPort and GossipPort are the same on every node (addresses differ).
	HTTPPort, RaftPort, GossipPort int
	// RaftProfile is cellmapd's --raft-profile ("test": short timeouts, small snapshots).
	RaftProfile string
	// GossipProfile is cellmapd's --gossip-profile ("test": a dead pool member, e.g. a cell
	// conductor, is detected within about a second).
	GossipProfile string
	// LogLevel is cellmapd's --log-level.
	LogLevel string
	// GOMAXPROCS of each node (keeps a 2-core machine responsive).
	GOMAXPROCS int
	// StatusTimeout bounds one status request.
	StatusTimeout time.Duration
}

// DefaultConfig returns the harness's settings for n nodes.
func DefaultConfig(n int) *Config {
	return &Config{Nodes: n, HTTPPort: 8480, RaftPort: 8481, GossipPort: 8482, RaftProfile: "test", GossipProfile: "test",
		LogLevel: "info", GOMAXPROCS: 1, StatusTimeout: 500 * time.Millisecond}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Nodes < 1 || c.Nodes > netns.MaxNodes:
		return fmt.Errorf("cluster: Nodes must be 1..%d", netns.MaxNodes)
	case c.Binary == "" || c.Dir == "":
		return errors.New("cluster: Binary and Dir are required")
	case c.HTTPPort <= 0 || c.RaftPort <= 0 || c.GossipPort <= 0:
		return errors.New("cluster: ports must be positive")
	case c.StatusTimeout <= 0 || c.GOMAXPROCS <= 0:
		return errors.New("cluster: StatusTimeout and GOMAXPROCS must be positive")
	}
	return nil
}

// Node is one cellmapd of the cluster.
type Node struct {
	ID         string
	Index      int
	IP         string
	HTTPAddr   string
	RaftAddr   string
	GossipAddr string
	DataDir    string
	LogPath    string
	// Client talks to this node's HTTP API.
	Client *client.Client

	mu      sync.Mutex
	proc    *proc.Process
	starts  int
	paused  bool
	logFile *os.File
}

// Cluster is the set of nodes of one run.
type Cluster struct {
	cfg   Config
	nodes []*Node
	byID  map[string]*Node
	// sec is the run's CA, certificates, gossip key and admin token (the first leader
	// bootstraps the ACL with it and every client sends it): secured as in production.
	sec *security

	procMu sync.Mutex
	procs  map[string]*Proc
}

// New describes the cluster; it starts nothing (see Form).
func New(cfg *Config) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cluster{cfg: *cfg, byID: map[string]*Node{}, procs: map[string]*Proc{}}
	token, err := acl.NewSecret()
	if err != nil {
		return nil, err
	}
	for i := 1; i <= cfg.Nodes; i++ {
		ip := netns.IP(i)
		n := &Node{
			ID: "n" + strconv.Itoa(i), Index: i, IP: ip,
			HTTPAddr:   net.JoinHostPort(ip, strconv.Itoa(cfg.HTTPPort)),
			RaftAddr:   net.JoinHostPort(ip, strconv.Itoa(cfg.RaftPort)),
			GossipAddr: net.JoinHostPort(ip, strconv.Itoa(cfg.GossipPort)),
			DataDir:    filepath.Join(cfg.Dir, "n"+strconv.Itoa(i), "data"),
			LogPath:    filepath.Join(cfg.Dir, "n"+strconv.Itoa(i)+".log"),
		}
		c.nodes = append(c.nodes, n)
		c.byID[n.ID] = n
	}
	if c.sec, err = newSecurity(cfg.Dir, token, c.nodes); err != nil {
		return nil, err
	}
	for _, n := range c.nodes {
		n.Client = client.New("https://"+n.HTTPAddr, httpClient(c.sec.client)).WithToken(token)
	}
	return c, nil
}

// httpClient is a keep-alive client whose dials give up fast; requests carry their own
// deadlines.
func httpClient(tlsCfg *tls.Config) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		TLSClientConfig:     tlsCfg,
		DialContext:         (&net.Dialer{Timeout: time.Second, KeepAlive: 5 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}}
}

// Nodes returns the nodes in id order.
func (c *Cluster) Nodes() []*Node { return c.nodes }

// IDs returns the node ids in order.
func (c *Cluster) IDs() []string {
	ids := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		ids[i] = n.ID
	}
	return ids
}

// Node returns the node with id.
func (c *Cluster) Node(id string) (*Node, error) {
	n, ok := c.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownNode, id)
	}
	return n, nil
}

// Config returns the cluster's configuration.
func (c *Cluster) Config() Config { return c.cfg }

// argv is the command line of node n: run in its namespace, with --bootstrap or --join only
// on its first start (a node restarted on its data dir needs neither). Every start but node
// 1's first joins the gossip pool through the other nodes' gossip addresses, so the nodes
// (and the cell conductors that join them) form one pool, also after restarts.
func (c *Cluster) argv(n *Node, first bool) []string {
	argv := []string{"ip", "netns", "exec", netns.NS(n.Index), c.cfg.Binary,
		"--node-id", n.ID, "--data-dir", n.DataDir, "--http-addr", n.HTTPAddr, "--raft-addr", n.RaftAddr,
		"--gossip-addr", n.GossipAddr, "--raft-profile", c.cfg.RaftProfile, "--log-level", c.cfg.LogLevel,
		"--enable-fault-injection", "--acl-bootstrap-token-file", c.sec.tokenFile,
		// Autopilot promotes the nodes that join (or are added back by the membership
		// nemesis) but never removes one: voters change only through membership faults.
		"--autopilot-min-quorum", strconv.Itoa(c.cfg.Nodes)}
	argv = append(argv, c.sec.args(transport.NodeIdentity(n.ID))...)
	if c.cfg.GossipProfile != "" {
		argv = append(argv, "--gossip-profile", c.cfg.GossipProfile)
	}
	if !(first && n.Index == 1) {
		var peers []string
		for _, p := range c.nodes {
			if p != n {
				peers = append(peers, p.GossipAddr)
			}
		}
		if len(peers) > 0 {
			argv = append(argv, "--gossip-join", strings.Join(peers, ","))
		}
	}
	if first {
		if n.Index == 1 {
			argv = append(argv, "--bootstrap")
		} else {
			argv = append(argv, "--join", "https://"+c.nodes[0].HTTPAddr)
		}
	}
	return argv
}

// GossipAddrs returns every node's gossip address, in node order.
func (c *Cluster) GossipAddrs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.GossipAddr
	}
	return out
}

func (c *Cluster) env() []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/sbin:/usr/bin:/sbin:/bin"
	}
	return []string{"PATH=" + path, "HOME=" + os.TempDir(), "GOMAXPROCS=" + strconv.Itoa(c.cfg.GOMAXPROCS), "GOTRACEBACK=all"}
}

// Start starts node id's server unless it is running.
func (c *Cluster) Start(id string) error {
	n, err := c.Node(id)
	if err != nil {
		return err
	}
	if err := c.sec.write(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc != nil && !n.proc.Exited() {
		return nil
	}
	if n.logFile == nil {
		if err := os.MkdirAll(n.DataDir, 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		n.logFile = f
	}
	argv := c.argv(n, n.starts == 0)
	fmt.Fprintf(n.logFile, "=== cellmap-jepsen: start #%d at %s: %v\n", n.starts+1, time.Now().Format(time.RFC3339Nano), argv)
	p, err := proc.Start(proc.Spec{Argv: argv, Env: c.env(), Out: n.logFile})
	if err != nil {
		return err
	}
	n.proc, n.paused = p, false
	n.starts++
	return nil
}

// Kill SIGKILLs node id's process group and waits until it is gone.
func (c *Cluster) Kill(id string) error {
	n, err := c.Node(id)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return nil
	}
	n.paused = false
	return n.proc.Kill()
}

// Pause SIGSTOPs node id.
func (c *Cluster) Pause(id string) error { return c.signal(id, syscall.SIGSTOP, true) }

// Resume SIGCONTs node id.
func (c *Cluster) Resume(id string) error { return c.signal(id, syscall.SIGCONT, false) }

func (c *Cluster) signal(id string, sig syscall.Signal, paused bool) error {
	n, err := c.Node(id)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return ErrNotRunning
	}
	if err := n.proc.Signal(sig); errors.Is(err, proc.ErrExited) {
		return ErrNotRunning
	} else if err != nil {
		return err
	}
	n.paused = paused
	return nil
}

// Running reports whether node id has a live process; Paused whether it is stopped.
func (c *Cluster) Running(id string) bool {
	n, err := c.Node(id)
	if err != nil {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc != nil && !n.proc.Exited()
}

// Paused reports whether node id was paused and not resumed.
func (c *Cluster) Paused(id string) bool {
	n, err := c.Node(id)
	if err != nil {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.paused && n.proc != nil && !n.proc.Exited()
}

// Shutdown stops every node and every extra process (SIGTERM, then SIGKILL after grace) and
// closes the logs.
func (c *Cluster) Shutdown(grace time.Duration) error {
	var wg sync.WaitGroup
	errs := make([]error, len(c.nodes)+1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs[len(c.nodes)] = c.stopProcs(grace)
	}()
	for i, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.mu.Lock()
			defer n.mu.Unlock()
			if n.proc != nil {
				errs[i] = n.proc.Stop(grace)
			}
			if n.logFile != nil {
				n.logFile.Close()
				n.logFile = nil
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Status asks node id for its cluster status.
func (c *Cluster) Status(ctx context.Context, id string) (*api.ClusterStatus, error) {
	n, err := c.Node(id)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.StatusTimeout)
	defer cancel()
	return n.Client.ClusterStatus(ctx)
}

// StatusAll asks every node in parallel; unreachable nodes are missing from the map.
func (c *Cluster) StatusAll(ctx context.Context) map[string]*api.ClusterStatus {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string]*api.ClusterStatus{}
	for _, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st, err := c.Status(ctx, n.ID); err == nil {
				mu.Lock()
				out[n.ID] = st
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// Leader returns the node that says it leads in the highest term.
func (c *Cluster) Leader(ctx context.Context) (string, *api.ClusterStatus, error) {
	var best *api.ClusterStatus
	for _, st := range c.StatusAll(ctx) {
		if st.State == "Leader" && (best == nil || st.Term > best.Term) {
			best = st
		}
	}
	if best == nil {
		return "", nil, ErrNoLeader
	}
	return best.NodeID, best, nil
}

// Voters returns the sorted voter ids of a status.
func Voters(st *api.ClusterStatus) []string {
	var ids []string
	for _, s := range st.Servers {
		if s.Suffrage == "Voter" {
			ids = append(ids, s.ID)
		}
	}
	sort.Strings(ids)
	return ids
}
