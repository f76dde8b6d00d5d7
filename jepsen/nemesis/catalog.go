package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// Spec describes a nemesis of the catalog.
type Spec struct {
	Name string
	// MinNodes is the smallest cluster it makes sense for.
	MinNodes int
	// Mixed: part of the default "mixed" set (CI); every applicable spec is in "all".
	Mixed bool
	// HoldMin and HoldMax bound the fault's planned duration. A goal-driven fault (one with
	// Fault.Hold) may run past it, up to GoalHoldMax, until it reaches its goal.
	HoldMin, HoldMax time.Duration
	// Doc is the one-line description printed by --help and the README.
	Doc string
	New func() Nemesis
	// Workload, when set, names the workload that brings this nemesis along (it registers the
	// real one with the driver; New is a placeholder). The nemesis is part of "mixed" and "all"
	// only when that workload runs, and naming it without the workload is an error.
	Workload string
}

// Catalog lists every nemesis, in a fixed order.
func Catalog() []Spec {
	s := time.Second
	return []Spec{
		{"partition-halves", 3, true, 4 * s, 8 * s, "cut the cluster into a random minority and majority", func() Nemesis { return halves{} }, ""},
		{"isolate-leader", 3, true, 4 * s, 8 * s, "cut the current leader off from every other node", func() Nemesis { return isolateLeader{} }, ""},
		{"partition-snapshot", 3, true, 10 * s, 14 * s, "cut one follower off until the leader compacted its log past it (forces InstallSnapshot), then heal", func() Nemesis { return snapshotPartition{} }, ""},
		{"ring", 5, true, 4 * s, 8 * s, "majorities ring: every node sees a majority, no two see the same one", func() Nemesis { return ring{} }, ""},
		{"bridge", 5, true, 4 * s, 8 * s, "two halves joined only through one bridge node", func() Nemesis { return bridge{} }, ""},
		{"one-way", 3, true, 4 * s, 8 * s, "one node (the leader or a random one) receives nothing from its peers but can still send", func() Nemesis { return oneWay{} }, ""},
		{"loss", 3, true, 4 * s, 8 * s, "every node drops 10-30% of the packets from its peers at random (nft numgen)", func() Nemesis { return loss{} }, ""},
		{"pause-leader", 3, true, 2 * s, 6 * s, "SIGSTOP the leader, later SIGCONT", func() Nemesis { return pause{target: "leader"} }, ""},
		{"pause-random", 3, false, 2 * s, 6 * s, "SIGSTOP a random node, later SIGCONT", func() Nemesis { return pause{target: "random"} }, ""},
		{"kill-leader", 3, true, 2 * s, 5 * s, "SIGKILL the leader, restart it on its data dir", func() Nemesis { return kill{target: "leader"} }, ""},
		{"kill-random", 3, true, 2 * s, 5 * s, "SIGKILL a random node, restart it", func() Nemesis { return kill{target: "random"} }, ""},
		{"kill-minority", 3, false, 2 * s, 5 * s, "SIGKILL a random minority, restart it", func() Nemesis { return kill{target: "minority"} }, ""},
		{"kill-all", 3, true, 2 * s, 4 * s, "SIGKILL every node, restart all (recovery from disk only)", func() Nemesis { return kill{target: "all"} }, ""},
		{"membership", 4, true, 4 * s, 8 * s, "remove a live follower from the raft configuration, add it back (never below 3 voters)", func() Nemesis { return membership{} }, ""},
		{"gossip-cut", 3, true, 4 * s, 8 * s, "drop only gossip traffic between all nodes; raft membership must not change", func() Nemesis { return gossipCut{} }, ""},
		{"latency", 3, true, 4 * s, 8 * s, "delay every node's raft traffic by 30-150 ms (netem when available, else user space)", func() Nemesis { return latency{} }, ""},
		{"conductor-cut", 1, true, 10 * s, 14 * s, "cut one cell conductor off from everything (gossip and HTTP), hold until every node reports its cell down, keep it 5-9 s, heal and wait until every node reports it up again (comes with the cells workload)",
			func() Nemesis { return provided{"conductor-cut", "cells"} }, "cells"},
	}
}

// Lookup returns the catalog entry called name.
func Lookup(name string) (Spec, error) {
	for _, s := range Catalog() {
		if s.Name == name {
			return s, nil
		}
	}
	return Spec{}, fmt.Errorf("%w %q (known: %s)", ErrUnknown, name, strings.Join(Names(), ", "))
}

// Names lists every nemesis name.
func Names() []string {
	var names []string
	for _, s := range Catalog() {
		names = append(names, s.Name)
	}
	return names
}

// Resolve turns a --nemesis value ("mixed", "all", "none" or a comma list) into nemesis
// names for a cluster of n nodes running the default workloads (none that brings nemeses of
// its own); see ResolveFor.
func Resolve(value string, n int) ([]string, error) { return ResolveFor(value, n, nil) }

// ResolveFor turns a --nemesis value ("mixed", "all", "none" or a comma list) into nemesis
// names for a cluster of n nodes running workloads. mixed and all silently leave out nemeses
// the cluster is too small for or whose workload does not run; naming one explicitly is an
// error.
func ResolveFor(value string, n int, workloads []string) ([]string, error) {
	var out []string
	switch value {
	case "none", "":
		return nil, nil
	case "mixed", "all":
		for _, s := range Catalog() {
			if n >= s.MinNodes && (value == "all" || s.Mixed) && (s.Workload == "" || contains(workloads, s.Workload)) {
				out = append(out, s.Name)
			}
		}
		return out, nil
	}
	seen := map[string]bool{}
	for _, name := range strings.Split(value, ",") {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		s, err := Lookup(name)
		if err != nil {
			return nil, err
		}
		if n < s.MinNodes {
			return nil, fmt.Errorf("%w: %s needs at least %d nodes, the run has %d", ErrNotApplicable, name, s.MinNodes, n)
		}
		if s.Workload != "" && !contains(workloads, s.Workload) {
			return nil, fmt.Errorf("%w: %s comes with the %s workload, which this run does not run (add it with --workloads)", ErrNotApplicable, name, s.Workload)
		}
		seen[name] = true
		out = append(out, name)
	}
	sort.SliceStable(out, func(i, j int) bool { return catalogIndex(out[i]) < catalogIndex(out[j]) })
	return out, nil
}

func catalogIndex(name string) int {
	for i, s := range Catalog() {
		if s.Name == name {
			return i
		}
	}
	return len(Catalog())
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// provided stands in for a nemesis that a workload brings along until the workload registers
// the real one with the driver.
type provided struct{ name, workload string }

func (p provided) Name() string { return p.name }

func (p provided) Start(context.Context, Env, *rand.Rand) (*Fault, error) {
	return nil, fmt.Errorf("%w: %s is provided by the %s workload, which did not register it", ErrSkipped, p.name, p.workload)
}
