package jepsen

import (
	"context"
	"net/http"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/jepsen/cluster"
	"github.com/cellmap/cellmap/jepsen/history"
	"github.com/cellmap/cellmap/jepsen/nemesis"
	"github.com/cellmap/cellmap/jepsen/netns"
)

// env is the cluster and its network as the nemeses see them.
type env struct {
	c     *cluster.Cluster
	net   *netns.Net
	netem bool
	// hosts runs the workloads' extra processes; record writes (and logs) an event.
	hosts  *hosts
	record func(history.Event) history.Event
}

var _ nemesis.Env = (*env)(nil)

func (e *env) node(id string) *cluster.Node {
	n, err := e.c.Node(id)
	if err != nil {
		panic(err) // ids come from Nodes(); anything else is a harness bug
	}
	return n
}

func (e *env) Nodes() []string           { return e.c.IDs() }
func (e *env) IP(id string) string       { return e.node(id).IP }
func (e *env) RaftAddr(id string) string { return e.node(id).RaftAddr }
func (e *env) GossipPort() int           { return e.c.Config().GossipPort }
func (e *env) Kill(id string) error      { return e.c.Kill(id) }
func (e *env) Start(id string) error     { return e.c.Start(id) }
func (e *env) Pause(id string) error     { return e.c.Pause(id) }
func (e *env) Resume(id string) error    { return e.c.Resume(id) }
func (e *env) Client(id string) *client.Client {
	return e.node(id).Client
}

func (e *env) Leader(ctx context.Context) (string, error) {
	id, _, err := e.c.Leader(ctx)
	return id, err
}

func (e *env) Status(ctx context.Context, id string) (*api.ClusterStatus, error) {
	return e.c.Status(ctx, id)
}

func (e *env) SetRules(ctx context.Context, id string, r netns.Rules) error {
	return e.net.SetRules(ctx, e.node(id).Index, r)
}

func (e *env) CutConns(ctx context.Context, id string, peers []string, ports []int) error {
	ips := make([]string, len(peers))
	for i, p := range peers {
		ips[i] = e.node(p).IP
	}
	return e.net.CutConns(ctx, e.node(id).Index, ips, ports)
}

// SetDelay uses netem where the kernel has it, else cellmapd's fault-injection endpoint
// (a user-space delay of every write on the node's raft connections).
func (e *env) SetDelay(ctx context.Context, id string, ms int) error {
	if e.netem {
		return e.net.SetNetemDelay(ctx, e.node(id).Index, ms)
	}
	_, err := e.node(id).Client.Do(ctx, http.MethodPost, "/internal/faults", nil, map[string]int{"delay_ms": ms}, nil)
	return err
}

func (e *env) ReadLog(id string, from int64) ([]byte, int64, error) { return e.c.ReadLog(id, from) }
