package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
)

// latency delays every node's raft traffic.
type latency struct{}

func (latency) Name() string { return "latency" }

func (latency) Start(ctx context.Context, env Env, rng *rand.Rand) (*Fault, error) {
	ms := 30 + rng.IntN(121)
	ids := env.Nodes()
	f := &Fault{Targets: ids, Detail: fmt.Sprintf("%d ms delay on every node's raft traffic", ms),
		Stop: func(ctx context.Context) (string, error) {
			var errs []error
			for _, id := range ids {
				errs = append(errs, env.SetDelay(ctx, id, 0))
			}
			return "delay off", errors.Join(errs...)
		}}
	var errs []error
	for _, id := range ids {
		errs = append(errs, env.SetDelay(ctx, id, ms))
	}
	return f, errors.Join(errs...)
}
