package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// minVoters is the smallest configuration the membership nemesis leaves.
const minVoters = 3

// membership removes a live follower from the raft configuration and adds it back on stop.
type membership struct{}

func (membership) Name() string { return "membership" }

func (membership) Start(ctx context.Context, env Env, rng *rand.Rand) (*Fault, error) {
	leader, err := leaderOr(ctx, env)
	if err != nil {
		return nil, err
	}
	st, err := env.Status(ctx, leader)
	if err != nil {
		return nil, fmt.Errorf("%w: leader status: %v", ErrSkipped, err)
	}
	var live []string
	for _, s := range st.Servers {
		if s.Suffrage != "Voter" || s.ID == leader {
			continue
		}
		if _, err := env.Status(ctx, s.ID); err == nil {
			live = append(live, s.ID)
		}
	}
	if len(st.Servers)-1 < minVoters || len(live) == 0 {
		return nil, fmt.Errorf("%w: %d voters, %d live followers: removing one would leave fewer than %d voters",
			ErrSkipped, len(st.Servers), len(live), minVoters)
	}
	target := live[rng.IntN(len(live))]
	f := &Fault{Targets: []string{target}, Detail: fmt.Sprintf("remove %s from %d voters", target, len(st.Servers)),
		Stop: func(ctx context.Context) (string, error) { return rejoin(ctx, env, target) }}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := env.Client(leader).RemoveServer(rctx, target); err != nil {
		return f, fmt.Errorf("remove %s: %w", target, err)
	}
	return f, nil
}

// rejoin adds id back as a voter through the current leader, retrying for a while.
func rejoin(ctx context.Context, env Env, id string) (string, error) {
	var last error
	for attempt := 1; attempt <= 20; attempt++ {
		leader, err := env.Leader(ctx)
		if err == nil {
			jctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = env.Client(leader).Join(jctx, id, env.RaftAddr(id))
			cancel()
			if err == nil {
				return fmt.Sprintf("added %s back via %s (attempt %d)", id, leader, attempt), nil
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("rejoin %s: %w (last error: %v)", id, ctx.Err(), last)
		case <-time.After(500 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("rejoin %s: %v", id, last)
}
