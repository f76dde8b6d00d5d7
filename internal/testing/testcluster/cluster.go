package testcluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/transport"
)

// ProcNode is one cellmapd process of a Cluster.
type ProcNode struct {
	ID, Dir, HTTP, Raft, Gossip string
	Proc                        *Process
	// Client talks to the node (HTTPS trusting the cluster CA when the cluster has TLS).
	Client *client.Client
}

// ClusterOptions tune StartCluster.
type ClusterOptions struct {
	// Size is the number of nodes (default 3).
	Size int
	// PKI, when set, secures the cluster: every node holds the certificate of node <id> of
	// this CA (--tls-cert, --tls-key, --tls-ca), joins over https and clients use HTTPS.
	PKI *PKI
	// Args are more flags of every node; FirstArgs more flags of the first node, the one
	// that bootstraps (e.g. --restore-from).
	Args      []string
	FirstArgs []string
}

// Cluster is a cluster of real cellmapd processes on 127.0.0.1 (raft test profile, gossip test
// profile). They are killed at test cleanup.
type Cluster struct {
	Nodes []*ProcNode
	PKI   *PKI
	args  []string
}

// StartCluster starts o.Size cellmapd processes: n1 bootstraps, the others join it; it
// returns once every node is a voter and ready.
func StartCluster(t testing.TB, o *ClusterOptions) *Cluster {
	t.Helper()
	if o == nil {
		o = &ClusterOptions{}
	}
	size := o.Size
	if size == 0 {
		size = 3
	}
	c := &Cluster{PKI: o.PKI, args: append([]string{"--acl-bootstrap-token-file", testkit.AdminTokenFile(t)}, o.Args...)}
	for i := 1; i <= size; i++ {
		n := &ProcNode{ID: fmt.Sprintf("n%d", i), Dir: t.TempDir(), HTTP: testkit.FreeAddr(t), Raft: testkit.FreeAddr(t),
			Gossip: testkit.FreeUDPTCPAddr(t)}
		if c.PKI != nil {
			n.Client = c.PKI.Client(t, n.HTTP)
		} else {
			n.Client = client.New(n.HTTP, nil)
			t.Cleanup(n.Client.Close)
		}
		n.Client = n.Client.WithToken(testkit.AdminToken)
		c.Nodes = append(c.Nodes, n)
	}
	first := c.Nodes[0]
	c.Start(t, first, append([]string{"--bootstrap"}, o.FirstArgs...)...)
	WaitClientReady(t, first.Client, 30*time.Second)
	for _, n := range c.Nodes[1:] {
		c.Start(t, n, "--join", c.URL(first), "--gossip-join", first.Gossip)
	}
	testkit.WaitFor(t, fmt.Sprintf("%d voters", size), 60*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		st, err := first.Client.ClusterStatus(ctx)
		return err == nil && Voters(st) == size
	})
	for _, n := range c.Nodes {
		WaitClientReady(t, n.Client, 30*time.Second)
	}
	return c
}

// Voters counts the voters of a cluster status: a node that joins is a non-voter until the
// leader's autopilot promotes it, so tests that need N voters wait for them.
func Voters(st *api.ClusterStatus) int {
	n := 0
	for _, s := range st.Servers {
		if s.Suffrage == "Voter" {
			n++
		}
	}
	return n
}

// URL is the base URL of a node's HTTP API.
func (c *Cluster) URL(n *ProcNode) string {
	if c.PKI != nil {
		return "https://" + n.HTTP
	}
	return "http://" + n.HTTP
}

// Start (re)starts node n with the cluster's flags and extra ones.
func (c *Cluster) Start(t testing.TB, n *ProcNode, extra ...string) {
	t.Helper()
	args := []string{"--node-id", n.ID, "--data-dir", n.Dir, "--http-addr", n.HTTP, "--raft-addr", n.Raft,
		"--gossip-addr", n.Gossip, "--raft-profile", "test", "--gossip-profile", "test", "--log-level", "info"}
	if c.PKI != nil {
		args = append(args, c.PKI.Args(t, transport.NodeIdentity(n.ID))...)
	}
	args = append(append(args, c.args...), extra...)
	n.Proc = Start(t, n.ID, Binary(t, "cellmapd"), args...)
}

// Leader waits for a node that says it leads and returns it.
func (c *Cluster) Leader(t testing.TB) *ProcNode {
	t.Helper()
	var leader *ProcNode
	testkit.WaitFor(t, "a leader", 30*time.Second, func() bool {
		for _, n := range c.Nodes {
			if n.Proc == nil || n.Proc.Exited() {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			st, err := n.Client.ClusterStatus(ctx)
			cancel()
			if err == nil && st.State == "Leader" {
				leader = n
				return true
			}
		}
		return false
	})
	return leader
}
