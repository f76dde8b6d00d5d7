package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
)

// pickTargets chooses nodes: "leader", "random", "minority" or "all".
func pickTargets(ctx context.Context, env Env, rng *rand.Rand, target string) ([]string, error) {
	nodes := env.Nodes()
	switch target {
	case "leader":
		l, err := leaderOr(ctx, env)
		if err != nil {
			return nil, err
		}
		return []string{l}, nil
	case "random":
		return []string{nodes[rng.IntN(len(nodes))]}, nil
	case "minority":
		return sortedCopy(shuffled(rng, nodes)[:(len(nodes)-1)/2]), nil
	case "all":
		return nodes, nil
	}
	return nil, fmt.Errorf("%w: target %q", ErrUnknown, target)
}

// pause SIGSTOPs its targets and SIGCONTs them on stop.
type pause struct{ target string }

func (p pause) Name() string { return "pause-" + p.target }

func (p pause) Start(ctx context.Context, env Env, rng *rand.Rand) (*Fault, error) {
	ids, err := pickTargets(ctx, env, rng, p.target)
	if err != nil {
		return nil, err
	}
	f := &Fault{Targets: ids, Detail: "SIGSTOP " + strings.Join(ids, ","), Stop: func(ctx context.Context) (string, error) {
		var errs []error
		for _, id := range ids {
			errs = append(errs, env.Resume(id))
		}
		return "SIGCONT " + strings.Join(ids, ","), errors.Join(errs...)
	}}
	var errs []error
	for _, id := range ids {
		errs = append(errs, env.Pause(id))
	}
	return f, errors.Join(errs...)
}

// kill SIGKILLs its targets and restarts them on their data dirs on stop.
type kill struct{ target string }

func (k kill) Name() string { return "kill-" + k.target }

func (k kill) Start(ctx context.Context, env Env, rng *rand.Rand) (*Fault, error) {
	ids, err := pickTargets(ctx, env, rng, k.target)
	if err != nil {
		return nil, err
	}
	f := &Fault{Targets: ids, Detail: "SIGKILL " + strings.Join(ids, ","), Stop: func(ctx context.Context) (string, error) {
		var errs []error
		for _, id := range ids {
			errs = append(errs, env.Start(id))
		}
		return "restarted " + strings.Join(ids, ","), errors.Join(errs...)
	}}
	var errs []error
	for _, id := range ids {
		errs = append(errs, env.Kill(id))
	}
	return f, errors.Join(errs...)
}
