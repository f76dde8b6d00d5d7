package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/cellmap/cellmap/jepsen/netns"
)

// halves cuts a random minority from the majority.
type halves struct{}

func (halves) Name() string { return "partition-halves" }

func (halves) Start(ctx context.Context, env Env, rng *rand.Rand) (*Fault, error) {
	ids := shuffled(rng, env.Nodes())
	k := len(ids) / 2
	comps := [][]string{sortedCopy(ids[:k]), sortedCopy(ids[k:])}
	g := componentsGrudge(comps)
	return netFault(ctx, env, g, g.symmetric(env, nil), nil, comps[0], describeComponents(comps))
}

// isolateLeader cuts the current leader off.
type isolateLeader struct{}

func (isolateLeader) Name() string { return "isolate-leader" }

func (isolateLeader) Start(ctx context.Context, env Env, _ *rand.Rand) (*Fault, error) {
	leader, err := leaderOr(ctx, env)
	if err != nil {
		return nil, err
	}
	comps := [][]string{{leader}, without(env.Nodes(), leader)}
	g := componentsGrudge(comps)
	return netFault(ctx, env, g, g.symmetric(env, nil), nil, []string{leader}, "leader "+describeComponents(comps))
}

// ring is Jepsen's majorities ring: in a random order, every node sees its nearest
// neighbours, enough for a majority, and no two nodes see the same majority.
type ring struct{}

func (ring) Name() string { return "ring" }

func (ring) Start(ctx context.Context, env Env, rng *rand.Rand) (*Fault, error) {
	ids := shuffled(rng, env.Nodes())
	g := ringGrudge(ids)
	return netFault(ctx, env, g, g.symmetric(env, nil), nil, ids, "ring "+strings.Join(ids, "-"))
}

// ringGrudge: node i keeps the k nearest on each side, k = ceil(majority-1 / 2).
func ringGrudge(order []string) grudge {
	n := len(order)
	k := (n/2 + 1) / 2
	g := grudge{}
	for i, a := range order {
		for j, b := range order {
			d := (j - i + n) % n
			if d > n-d {
				d = n - d
			}
			if d > k {
				g[a] = append(g[a], b)
			}
		}
	}
	return g
}

// bridge splits the nodes into two halves that only one bridge node connects.
type bridge struct{}

func (bridge) Name() string { return "bridge" }

func (bridge) Start(ctx context.Context, env Env, rng *rand.Rand) (*Fault, error) {
	ids := shuffled(rng, env.Nodes())
	mid, rest := ids[0], ids[1:]
	a, b := sortedCopy(rest[:len(rest)/2]), sortedCopy(rest[len(rest)/2:])
	g := grudge{}
	for _, x := range a {
		g[x] = append(g[x], b...)
	}
	for _, x := range b {
		g[x] = append(g[x], a...)
	}
	return netFault(ctx, env, g, g.symmetric(env, nil), nil, []string{mid},
		fmt.Sprintf("{%s} - %s - {%s}", strings.Join(a, ","), mid, strings.Join(b, ",")))
}

// oneWay makes one node deaf: it drops everything it receives from its peers but can send.
type oneWay struct{}

func (oneWay) Name() string { return "one-way" }

func (oneWay) Start(ctx context.Context, env Env, rng *rand.Rand) (*Fault, error) {
	target := ""
	if rng.IntN(2) == 0 {
		if l, err := env.Leader(ctx); err == nil {
			target = l
		}
	}
	if target == "" {
		target = env.Nodes()[rng.IntN(len(env.Nodes()))]
	}
	g := grudge{target: without(env.Nodes(), target)}
	return netFault(ctx, env, g, g.inbound(env), nil, []string{target}, target+" receives nothing from its peers (inbound drop only)")
}

// loss drops a share of every node's inbound peer packets at random.
type loss struct{}

func (loss) Name() string { return "loss" }

func (loss) Start(ctx context.Context, env Env, rng *rand.Rand) (*Fault, error) {
	pct := 10 + rng.IntN(21)
	rs := ruleSet{}
	for _, id := range env.Nodes() {
		var from []string
		for _, p := range without(env.Nodes(), id) {
			from = append(from, env.IP(p))
		}
		rs[id] = netns.Rules{LossPercent: pct, LossFrom: from}
	}
	return netFault(ctx, env, grudge{}, rs, nil, env.Nodes(), fmt.Sprintf("%d%% inbound packet loss between all nodes", pct))
}

// gossipCut drops only gossip traffic (UDP and TCP on the gossip port) between all nodes.
// Raft membership must not change while it lasts (checked by the membership checker from the
// servers recorded at the start).
type gossipCut struct{}

func (gossipCut) Name() string { return "gossip-cut" }

func (gossipCut) Start(ctx context.Context, env Env, _ *rand.Rand) (*Fault, error) {
	var comps [][]string
	for _, id := range env.Nodes() {
		comps = append(comps, []string{id})
	}
	g := componentsGrudge(comps)
	ports := []int{env.GossipPort()}
	voters := "unknown"
	if l, err := env.Leader(ctx); err == nil {
		if st, err := env.Status(ctx, l); err == nil {
			var ids []string
			for _, s := range st.Servers {
				ids = append(ids, s.ID)
			}
			voters = strings.Join(sortedCopy(ids), ",")
		}
	}
	return netFault(ctx, env, g, g.symmetric(env, ports), ports, env.Nodes(),
		fmt.Sprintf("gossip port %d cut between all nodes; raft servers at start: %s", env.GossipPort(), voters))
}
