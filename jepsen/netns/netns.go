// Package netns builds the chaos harness's test network: one Linux network namespace per
// node, each with a veth into a private bridge that the harness also sits on, and nftables
// rules inside the node namespaces for partitions and packet loss. Every name it creates
// starts with [Prefix], so leftovers of a crashed run can be found and removed.
//
// # Caveats
//
// It shells out to ip, nft, ss and tc and needs root. Filters live inside the node
// namespaces (with br_netfilter on, bridged traffic also crosses the root namespace's forward
// hook, which this package leaves alone). Traffic between the harness (HostIP) and the nodes
// is never filtered: partitions cut node-to-node traffic only. Extra hosts (AddHost, e.g. the
// cell conductors) live on the same bridge; isolating one drops its traffic with the whole
// [Subnet], the harness included.
package netns

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Names and addresses of the test network.
const (
	// Prefix starts every namespace, link and nft table this package creates.
	Prefix = "cmj-"
	// Bridge is the private bridge joining the node namespaces and the harness.
	Bridge = Prefix + "br0"
	// HostIP is the harness's address on the bridge.
	HostIP = "10.77.0.254"
	// Table is the nft table (family inet) holding a node's fault rules.
	Table  = "cmj"
	subnet = "10.77.0."
	// Subnet is the whole test network (nodes, extra hosts and the harness), in CIDR form.
	Subnet = subnet + "0/24"
	// MaxNodes is the most nodes the subnet plan allows.
	MaxNodes = 200
)

// Sentinel errors.
var (
	// ErrCannotRun: this machine cannot host the test network (no root, no namespaces, no nft).
	ErrCannotRun = errors.New("cannot run here")
	// ErrCommand: a network command failed.
	ErrCommand = errors.New("netns: command failed")
)

// NS is the namespace of node i (1-based).
func NS(i int) string { return Prefix + "n" + strconv.Itoa(i) }

// IP is the address of node i (1-based).
func IP(i int) string { return subnet + strconv.Itoa(i) }

// Veth is the root-namespace end of node i's veth pair.
func Veth(i int) string { return Prefix + "v" + strconv.Itoa(i) }

// HostNS is the namespace of the extra host with address index i (see [Net.AddHost]).
func HostNS(i int) string { return Prefix + "h" + strconv.Itoa(i) }

// maxIndex is the highest address index a namespace can have (.254 is the harness).
const maxIndex = 253

// Runner runs a command with stdin (may be nil) and returns its combined output. Tests
// substitute a fake.
type Runner func(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)

// Net is a test network of N node namespaces, plus extra hosts added with AddHost.
type Net struct {
	n   int
	run Runner

	mu    sync.Mutex
	hosts []Host
}

// Host is an extra namespace on the test bridge beside the nodes (e.g. a cell conductor). Its
// Index follows the nodes' (the first host of a 3-node network is 4, at 10.77.0.4); the
// index-based methods of [Net] (Exec, SetRules, CutConns) take it like a node's.
type Host struct {
	Name  string
	Index int
	NS    string
	IP    string
}

// New describes a network of n nodes driven by run (nil: run real commands). It creates
// nothing; call Setup.
func New(n int, run Runner) (*Net, error) {
	if n < 1 || n > MaxNodes {
		return nil, fmt.Errorf("netns: %d nodes, want 1..%d", n, MaxNodes)
	}
	if run == nil {
		run = ExecRunner
	}
	return &Net{n: n, run: run}, nil
}

// Nodes is the number of node namespaces.
func (t *Net) Nodes() int { return t.n }

// Setup creates the bridge, the namespaces and the veth pairs. On error, call Teardown.
func (t *Net) Setup(ctx context.Context) error {
	steps := [][]string{
		{"ip", "link", "add", Bridge, "type", "bridge"},
		{"ip", "addr", "add", HostIP + "/24", "dev", Bridge},
		{"ip", "link", "set", Bridge, "up"},
	}
	for i := 1; i <= t.n; i++ {
		steps = append(steps, linkSteps(NS(i), i)...)
	}
	for _, s := range steps {
		if _, err := t.run(ctx, nil, s[0], s[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// linkSteps creates namespace ns with address index i on the bridge.
func linkSteps(ns string, i int) [][]string {
	return [][]string{
		{"ip", "netns", "add", ns},
		{"ip", "link", "add", Veth(i), "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"ip", "link", "set", Veth(i), "master", Bridge, "up"},
		{"ip", "-n", ns, "addr", "add", IP(i) + "/24", "dev", "eth0"},
		{"ip", "-n", ns, "link", "set", "eth0", "up"},
		{"ip", "-n", ns, "link", "set", "lo", "up"},
	}
}

// Teardown removes the namespaces and links this network made (and anything else with the
// prefix). Processes still inside the namespaces are killed.
func (t *Net) Teardown(ctx context.Context) error { return Reap(ctx, t.run) }

// AddHost creates a namespace for an extra host called name on the bridge, at the next free
// address, and returns it; a name added before is returned as it is. Teardown removes it
// with everything else.
func (t *Net) AddHost(ctx context.Context, name string) (Host, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range t.hosts {
		if h.Name == name {
			return h, nil
		}
	}
	i := t.n + len(t.hosts) + 1
	if i > maxIndex {
		return Host{}, fmt.Errorf("netns: no free address for host %q", name)
	}
	h := Host{Name: name, Index: i, NS: HostNS(i), IP: IP(i)}
	for _, s := range linkSteps(h.NS, i) {
		if _, err := t.run(ctx, nil, s[0], s[1:]...); err != nil {
			return Host{}, err
		}
	}
	t.hosts = append(t.hosts, h)
	return h, nil
}

// Hosts returns the extra hosts added so far.
func (t *Net) Hosts() []Host {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Host(nil), t.hosts...)
}

// ns is the namespace of index i: a node's or an extra host's.
func (t *Net) ns(i int) string {
	if i <= t.n {
		return NS(i)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, h := range t.hosts {
		if h.Index == i {
			return h.NS
		}
	}
	return NS(i)
}

// Exec runs a command inside namespace i (a node's or an extra host's).
func (t *Net) Exec(ctx context.Context, i int, name string, args ...string) ([]byte, error) {
	return t.run(ctx, nil, "ip", append([]string{"netns", "exec", t.ns(i), name}, args...)...)
}

// SetRules replaces namespace i's fault rules atomically (empty rules remove the table).
func (t *Net) SetRules(ctx context.Context, i int, r Rules) error {
	_, err := t.run(ctx, []byte(r.Ruleset(Table)), "ip", "netns", "exec", t.ns(i), "nft", "-f", "-")
	return err
}

// CutConns aborts node i's TCP connections to peers (only those on ports, when given), so a
// partition takes effect at once instead of after retransmission backoff. Call it in both
// namespaces: ss -K kills local sockets only.
func (t *Net) CutConns(ctx context.Context, i int, peers []string, ports []int) error {
	for _, p := range peers {
		args := []string{"-K", "-t", "dst", p}
		if len(ports) > 0 {
			var conds []string
			for _, port := range ports {
				conds = append(conds, fmt.Sprintf("dport = :%d or sport = :%d", port, port))
			}
			args = append(args, "( "+strings.Join(conds, " or ")+" )")
		}
		if _, err := t.Exec(ctx, i, "ss", args...); err != nil {
			return err
		}
	}
	return nil
}

// HasNetem reports whether the kernel offers the netem qdisc (probed in node 1's namespace).
func (t *Net) HasNetem(ctx context.Context) bool {
	if _, err := t.Exec(ctx, 1, "tc", "qdisc", "add", "dev", "eth0", "root", "netem", "delay", "1ms"); err != nil {
		return false
	}
	t.Exec(ctx, 1, "tc", "qdisc", "del", "dev", "eth0", "root")
	return true
}

// SetNetemDelay sets (d > 0) or removes (d == 0) a netem delay on node i's interface.
func (t *Net) SetNetemDelay(ctx context.Context, i int, ms int) error {
	t.Exec(ctx, i, "tc", "qdisc", "del", "dev", "eth0", "root")
	if ms <= 0 {
		return nil
	}
	_, err := t.Exec(ctx, i, "tc", "qdisc", "add", "dev", "eth0", "root", "netem", "delay",
		fmt.Sprintf("%dms", ms), fmt.Sprintf("%dms", ms/5+1))
	return err
}
