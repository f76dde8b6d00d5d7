package nemesis

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cellmap/cellmap/jepsen/netns"
)

// grudge maps a node to the peers whose packets it drops.
type grudge map[string][]string

// componentsGrudge makes every node drop every node outside its own component.
func componentsGrudge(comps [][]string) grudge {
	g := grudge{}
	for i, c := range comps {
		for _, a := range c {
			for j, other := range comps {
				if i != j {
					g[a] = append(g[a], other...)
				}
			}
		}
	}
	return g
}

// ruleSet is the packet filter of every node for one fault.
type ruleSet map[string]netns.Rules

// symmetric turns a grudge into rules that drop both directions on both sides (restricted to
// ports when given).
func (g grudge) symmetric(env Env, ports []int) ruleSet {
	rs := ruleSet{}
	for a, peers := range g {
		r := rs[a]
		for _, p := range peers {
			r.DropFrom = append(r.DropFrom, env.IP(p))
			r.DropTo = append(r.DropTo, env.IP(p))
		}
		r.Ports = ports
		rs[a] = r
	}
	return rs
}

// inbound turns a grudge into rules that drop only what the grudging node receives.
func (g grudge) inbound(env Env) ruleSet {
	rs := ruleSet{}
	for a, peers := range g {
		r := rs[a]
		for _, p := range peers {
			r.DropFrom = append(r.DropFrom, env.IP(p))
		}
		rs[a] = r
	}
	return rs
}

// applyGrudge installs rules on every node (nodes without rules get none) and aborts the TCP
// connections between every cut pair, in both namespaces.
func applyGrudge(ctx context.Context, env Env, g grudge, rs ruleSet, ports []int) error {
	var errs []error
	for _, id := range env.Nodes() {
		if err := env.SetRules(ctx, id, rs[id]); err != nil {
			errs = append(errs, err)
		}
	}
	cut := map[string][]string{}
	for a, peers := range g {
		for _, p := range peers {
			cut[a] = appendUnique(cut[a], p)
			cut[p] = appendUnique(cut[p], a)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(cut)) {
		if err := env.CutConns(ctx, id, sortedCopy(cut[id]), ports); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// healNet removes every node's packet filter.
func healNet(ctx context.Context, env Env) error {
	var errs []error
	for _, id := range env.Nodes() {
		if err := env.SetRules(ctx, id, netns.Rules{}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// netFault applies g and returns the fault that heals it.
func netFault(ctx context.Context, env Env, g grudge, rs ruleSet, ports []int, targets []string, detail string) (*Fault, error) {
	f := &Fault{Targets: targets, Detail: detail, Stop: func(ctx context.Context) (string, error) {
		return "healed", healNet(ctx, env)
	}}
	return f, applyGrudge(ctx, env, g, rs, ports)
}

func describeComponents(comps [][]string) string {
	var parts []string
	for _, c := range comps {
		parts = append(parts, "{"+strings.Join(c, ",")+"}")
	}
	return strings.Join(parts, " | ")
}

func shuffled(rng *rand.Rand, ids []string) []string {
	out := append([]string(nil), ids...)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func without(ids []string, drop ...string) []string {
	var out []string
	for _, id := range ids {
		keep := true
		for _, d := range drop {
			if id == d {
				keep = false
			}
		}
		if keep {
			out = append(out, id)
		}
	}
	return out
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func sortedCopy(ids []string) []string {
	out := append([]string(nil), ids...)
	sort.Strings(out)
	return out
}

// leaderWait is how long a fault that targets the leader waits for one (elections may be
// under way when it is due).
const leaderWait = 5 * time.Second

// leaderOr returns the leader, waiting up to leaderWait for one, or ErrSkipped.
func leaderOr(ctx context.Context, env Env) (string, error) {
	deadline := time.Now().Add(leaderWait)
	for {
		id, err := env.Leader(ctx)
		if err == nil {
			return id, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", fmt.Errorf("%w: no leader for %v: %v", ErrSkipped, leaderWait, err)
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
}
