package workload

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/jepsen/history"
)

// Set operation names.
const (
	FAdd  = "add"
	FList = "list"
)

// SetConfig shapes the set workload.
type SetConfig struct {
	// Workers add elements concurrently, each pinned to a node.
	Workers int
	// Timeout is the client timeout of an add and of one listing page.
	Timeout time.Duration
	// PageLimit is the listing's page size.
	PageLimit int
	// FinalAttempts bounds the retries of the final listing.
	FinalAttempts int
}

// DefaultSetConfig returns the CI settings.
func DefaultSetConfig() SetConfig {
	return SetConfig{Workers: 3, Timeout: 1500 * time.Millisecond, PageLimit: 1000, FinalAttempts: 30}
}

// Validate checks the configuration.
func (c SetConfig) Validate() error {
	if c.Workers < 1 || c.Timeout <= 0 || c.PageLimit < 1 || c.FinalAttempts < 1 {
		return errors.New("workload: bad set config")
	}
	return nil
}

// Set is the set workload: create-only instance mappings (If-None-Match: *) with unique
// uuids in one project per episode, then one final linearizable listing of the project.
type Set struct {
	cfg SetConfig
}

// NewSet returns the workload.
func NewSet(cfg SetConfig) *Set { return &Set{cfg: cfg} }

// Name implements Workload.
func (s *Set) Name() string { return "set" }

// SetProject is the project holding episode ep's elements.
func SetProject(ep int) string { return fmt.Sprintf("jepsen-set-%d", ep) }

// Run implements Workload.
func (s *Set) Run(ctx context.Context, env *Env) error {
	if err := s.cfg.Validate(); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for i := 0; i < s.cfg.Workers; i++ {
		node := env.Nodes[i%len(env.Nodes)]
		rng := rand.New(rand.NewPCG(env.Seed^0x736574, uint64(env.Episode)<<20|uint64(i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.worker(ctx, env, node, rng)
		}()
	}
	wg.Wait()
	return nil
}

func (s *Set) worker(ctx context.Context, env *Env, node string, rng *rand.Rand) {
	process := env.Rec.NewProcess()
	project := SetProject(env.Episode)
	for ctx.Err() == nil {
		if !env.Limiter.Wait(ctx) {
			return
		}
		elem := uuidFrom(rng)
		inv := env.Rec.Invoke(history.Event{Process: process, Workload: "set", F: FAdd, Key: project, Node: node, Value: elem})
		octx, cancel := context.WithTimeout(env.OpCtx, s.cfg.Timeout)
		_, meta, err := env.Client(node).PutInstanceMapping(octx, elem, api.InstanceMappingPut{ProjectID: project}, client.Condition{IfAbsent: true})
		cancel()
		kind, code := ClassifyWrite(err)
		env.Rec.Complete(inv, kind, history.Event{Value: elem, Error: code, ServerIndex: meta.Index})
		if kind == history.KindInfo {
			process = env.Rec.NewProcess()
		}
	}
}

// Final implements Workload: list the episode's project linearizably, page by page, trying
// the nodes in turn until one listing succeeds.
func (s *Set) Final(ctx context.Context, env *Env) error {
	project := SetProject(env.Episode)
	process := env.Rec.NewProcess()
	last := errors.New("no attempt made")
	for attempt := 0; attempt < s.cfg.FinalAttempts && ctx.Err() == nil; attempt++ {
		node := env.Nodes[attempt%len(env.Nodes)]
		inv := env.Rec.Invoke(history.Event{Process: process, Workload: "set", F: FList, Key: project, Node: node})
		elems, err := s.list(ctx, env.Client(node), project)
		if err == nil {
			env.Rec.Complete(inv, history.KindOK, history.Event{Elements: elems})
			return nil
		}
		last = err
		env.Rec.Complete(inv, history.KindFail, history.Event{Error: orMessage(client.CodeOf(err), err)})
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("workload: final listing of %s failed: %w", project, last)
}

func (s *Set) list(ctx context.Context, c *client.Client, project string) ([]string, error) {
	var out []string
	marker := ""
	for page := 0; page < 10000; page++ {
		pctx, cancel := context.WithTimeout(ctx, 2*s.cfg.Timeout)
		l, err := c.InstanceMappings(pctx, client.InstanceQuery{ProjectID: project, Marker: marker, Limit: s.cfg.PageLimit})
		cancel()
		if err != nil {
			return nil, err
		}
		for _, m := range l.InstanceMappings {
			out = append(out, m.InstanceUUID)
		}
		if l.NextMarker == "" || len(l.InstanceMappings) == 0 {
			return out, nil
		}
		marker = l.NextMarker
	}
	return nil, errors.New("workload: listing did not end after 10000 pages")
}
