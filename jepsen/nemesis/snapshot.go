package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// Filler load of the snapshot nemesis: writes to a few keys of their own project, so the
// leader's log grows past the snapshot threshold quickly without touching checked data.
const (
	fillerProject = "jepsen-filler"
	fillerKeys    = 64
	fillerWorkers = 6
	fillerMax     = 6000
	// fillerPause paces each filler worker (about 1000 writes/s in all at most).
	fillerPause = 5 * time.Millisecond
)

var (
	compactRE   = regexp.MustCompile(`compacting logs: from=(\d+) to=(\d+)`)
	installedRE = regexp.MustCompile(`Installed remote snapshot`)
)

// snapshotPartition cuts one follower off, drives writes until some other node compacted its
// log past the follower's last entry (the leader can then only catch it up with
// InstallSnapshot), and heals. The stop note says whether the follower installed a snapshot.
type snapshotPartition struct{}

func (snapshotPartition) Name() string { return "partition-snapshot" }

func (snapshotPartition) Start(ctx context.Context, env Env, rng *rand.Rand) (*Fault, error) {
	leader, err := leaderOr(ctx, env)
	if err != nil {
		return nil, err
	}
	var candidates []string
	for _, id := range without(env.Nodes(), leader) {
		if _, err := env.Status(ctx, id); err == nil {
			candidates = append(candidates, id)
		}
	}
	if len(candidates) == 0 {
		return nil, fmt.Errorf("%w: no live follower", ErrSkipped)
	}
	target := candidates[rng.IntN(len(candidates))]
	sp := &snapshotRun{env: env, target: target, offsets: map[string]int64{}, seed: rng.Uint64()}
	for _, id := range env.Nodes() {
		_, sp.offsets[id], _ = env.ReadLog(id, 0)
	}
	comps := [][]string{{target}, without(env.Nodes(), target)}
	g := componentsGrudge(comps)
	f, err := netFault(ctx, env, g, g.symmetric(env, nil), nil, []string{target}, "follower "+target+" cut off")
	behind, whose, serr := cutIndex(ctx, env, target)
	if serr != nil {
		return f, serr
	}
	sp.behind = behind
	f.Detail = fmt.Sprintf("follower %s cut off at log index %d (%s) until the leader compacted past it", target, sp.behind, whose)
	f.Hold = sp.hold
	heal := f.Stop
	f.Stop = func(ctx context.Context) (string, error) {
		note, err := heal(ctx)
		return note + "; " + sp.afterHeal(ctx), err
	}
	return f, err
}

// cutIndex is a log index the cut-off target has not gone beyond: its own last index when it
// answers within a few tries, else the leader's, which bounds it (the target has only what
// leaders sent it). On a loaded machine the cut node can be too slow to answer before its
// auth lease ends and it refuses every token; the leader, not cut off, is asked until
// leaderWait has passed.
func cutIndex(ctx context.Context, env Env, target string) (uint64, string, error) {
	for attempt := 0; attempt < 3; attempt++ {
		if st, err := env.Status(ctx, target); err == nil {
			return st.LastLogIndex, "its own last index", nil
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
	deadline := time.Now().Add(leaderWait)
	for {
		l, err := env.Leader(ctx)
		if err == nil && l != target {
			var st *api.ClusterStatus
			if st, err = env.Status(ctx, l); err == nil {
				return st.LastLogIndex, "the last index of leader " + l + ", as " + target + " did not answer", nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0, "", fmt.Errorf("status of %s after the cut, and of a leader: %v", target, err)
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
}

// snapshotRun is the state of one snapshot partition.
type snapshotRun struct {
	env     Env
	target  string
	behind  uint64
	offsets map[string]int64
	seed    uint64
	writes  atomic.Int64
}

// hold writes filler until the leader logged a compaction past the target's last index (it
// can then only catch the target up with InstallSnapshot), or ctx ends.
func (s *snapshotRun) hold(ctx context.Context) string {
	fctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := 0; w < fillerWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.fill(fctx, w)
		}()
	}
	defer func() {
		stop()
		wg.Wait()
	}()
	for {
		if by, to := s.compacted(ctx); by != "" {
			return fmt.Sprintf("leader %s compacted its log to index %d > %d after %d filler writes", by, to, s.behind, s.writes.Load())
		}
		select {
		case <-ctx.Done():
			return fmt.Sprintf("goal not reached (no compaction past %d) after %d filler writes", s.behind, s.writes.Load())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// fill writes to the leader until ctx ends or fillerMax writes were made.
func (s *snapshotRun) fill(ctx context.Context, worker int) {
	var c *client.Client
	for i := 0; ctx.Err() == nil && s.writes.Load() < fillerMax; i++ {
		if c == nil {
			l, err := s.env.Leader(ctx)
			if err != nil {
				sleepCtx(ctx, 200*time.Millisecond)
				continue
			}
			c = s.env.Client(l)
		}
		key := fmt.Sprintf("ffffffff-0000-4000-8000-%012d", (worker*7+i)%fillerKeys)
		user := fmt.Sprintf("filler-%d-%d-%d", s.seed%1000, worker, i)
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, _, err := c.PutInstanceMapping(wctx, key, api.InstanceMappingPut{ProjectID: fillerProject, UserID: &user}, client.Condition{})
		cancel()
		if err != nil {
			c = nil
			continue
		}
		s.writes.Add(1)
		sleepCtx(ctx, fillerPause)
	}
}

// compacted scans the current leader's new log lines for a compaction past s.behind.
func (s *snapshotRun) compacted(ctx context.Context) (string, uint64) {
	leader, err := s.env.Leader(ctx)
	if err != nil || leader == s.target {
		return "", 0
	}
	b, _, err := s.env.ReadLog(leader, s.offsets[leader])
	if err != nil {
		return "", 0
	}
	for _, m := range compactRE.FindAllSubmatch(b, -1) {
		if to, err := strconv.ParseUint(string(m[2]), 10, 64); err == nil && to > s.behind {
			return leader, to
		}
	}
	return "", 0
}

// afterHeal waits for the target to catch up and reports whether it installed a snapshot.
func (s *snapshotRun) afterHeal(ctx context.Context) string {
	start := time.Now()
	var goal uint64
	if l, err := s.env.Leader(ctx); err == nil {
		if st, err := s.env.Status(ctx, l); err == nil {
			goal = st.CommitIndex
		}
	}
	caught := "did not catch up within 20s"
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if st, err := s.env.Status(ctx, s.target); err == nil && goal > 0 && st.AppliedIndex >= goal {
			caught = fmt.Sprintf("caught up to %d in %v", goal, time.Since(start).Round(10*time.Millisecond))
			break
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
	installed := "no snapshot installed"
	if b, _, err := s.env.ReadLog(s.target, s.offsets[s.target]); err == nil && installedRE.Match(b) {
		installed = "installed a snapshot"
	}
	return fmt.Sprintf("%s %s, %s", s.target, caught, installed)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
