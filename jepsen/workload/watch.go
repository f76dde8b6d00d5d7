package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/jepsen/history"
)

// Watch observation names (what a cache saw; the writes are FCreate and FDelete, as in the
// cells workload, and the final listing FList).
const (
	FSynced   = "synced"
	FFinal    = "final"
	FinalMark = "final-write"
)

// WatchConfig shapes the watch workload.
type WatchConfig struct {
	// Caches is the number of client caches, cache i starting on node i (mod the nodes) and
	// moving to the others on failure.
	Caches int
	// Writers create and delete mappings concurrently, each pinned to a node.
	Writers int
	// Timeout is the client timeout of a write and of the final listing.
	Timeout time.Duration
	// MaxStaleness, ProgressInterval and ProbeInterval configure the caches.
	MaxStaleness, ProgressInterval, ProbeInterval time.Duration
	// FinalAttempts bounds the retries of the final write and listing.
	FinalAttempts int
	// MuxWatches is the number of watches of the episode's mux observer (watchmux.go): one
	// POST /v1/watch stream, each watch checked as a cache is; 0 runs none.
	MuxWatches int
}

// DefaultWatchConfig returns the CI settings.
func DefaultWatchConfig() WatchConfig {
	return WatchConfig{Caches: 3, Writers: 2, Timeout: 1500 * time.Millisecond, MaxStaleness: 3 * time.Second,
		ProgressInterval: 200 * time.Millisecond, ProbeInterval: 300 * time.Millisecond, FinalAttempts: 30, MuxWatches: 2}
}

// Validate checks the configuration.
func (c WatchConfig) Validate() error {
	if c.Caches < 1 || c.Writers < 1 || c.MuxWatches < 0 || c.MuxWatches > 26 || c.Timeout <= 0 || c.FinalAttempts < 1 || c.ProbeInterval >= c.MaxStaleness ||
		c.ProgressInterval >= c.MaxStaleness || c.ProgressInterval < 10*time.Millisecond {
		return errors.New("workload: bad watch config")
	}
	return nil
}

// Watch is the watch workload: writers create instance mappings (unique uuids, If-None-Match:
// *) and delete some of the ones they created, in one project per episode, while client
// caches (client.Cache) of that project follow the change stream from different nodes
// through the faults. Every change a cache fires is recorded (KindObserve); after the heal a
// final write and a final linearizable listing are made, and each cache's final state is
// recorded once it has reached the listing's index. The checker (package check, "watch")
// compares each cache's changes with the acknowledged writes. Beside the caches, a mux
// observer (watchmux.go) follows the project with MuxWatches watches on one POST /v1/watch
// stream, each checked as a cache is.
type Watch struct {
	cfg WatchConfig

	mu     sync.Mutex
	caches []*watchCache
	mux    *muxObserver
	stop   context.CancelFunc
	done   sync.WaitGroup
}

// watchCache is one cache of an episode.
type watchCache struct {
	name  string
	cache *client.Cache
}

// NewWatch returns the workload.
func NewWatch(cfg WatchConfig) *Watch { return &Watch{cfg: cfg} }

// Name implements Workload.
func (w *Watch) Name() string { return "watch" }

// WatchProject is the project of episode ep's mappings.
func WatchProject(ep int) string { return fmt.Sprintf("jepsen-watch-%d", ep) }

// Run implements Workload: it starts the episode's caches (they run until Final ends), then
// writes until ctx ends.
func (w *Watch) Run(ctx context.Context, env *Env) error {
	if err := w.cfg.Validate(); err != nil {
		return err
	}
	if err := w.startCaches(ctx, env); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for i := 0; i < w.cfg.Writers; i++ {
		node := env.Nodes[i%len(env.Nodes)]
		rng := rand.New(rand.NewPCG(env.Seed^0x7761746368, uint64(env.Episode)<<20|uint64(i)))
		wg.Go(func() { w.writer(ctx, env, node, rng) })
	}
	wg.Wait()
	return nil
}

// startCaches starts the caches of the episode and waits for their first listing.
func (w *Watch) startCaches(ctx context.Context, env *Env) error {
	cctx, cancel := context.WithCancel(env.OpCtx)
	w.mu.Lock()
	w.caches, w.mux, w.stop = nil, nil, cancel
	w.mu.Unlock()
	project := WatchProject(env.Episode)
	for i := 0; i < w.cfg.Caches; i++ {
		wc := &watchCache{name: fmt.Sprintf("cache%d", i+1)}
		cfg := client.DefaultCacheConfig()
		cfg.ProjectID, cfg.MaxStaleness = project, w.cfg.MaxStaleness
		cfg.ProgressInterval, cfg.ProbeInterval, cfg.RequestTimeout = w.cfg.ProgressInterval, w.cfg.ProbeInterval, w.cfg.Timeout
		cfg.MinBackoff, cfg.MaxBackoff = 50*time.Millisecond, 500*time.Millisecond
		for j := range env.Nodes {
			cfg.Clients = append(cfg.Clients, env.Client(env.Nodes[(i+j)%len(env.Nodes)]))
		}
		c, err := client.NewCache(cfg)
		if err != nil {
			cancel()
			return err
		}
		wc.cache = c
		observe := func(ch client.Change) {
			e := history.Event{Kind: history.KindObserve, Episode: env.Episode, Workload: "watch", Node: wc.name, F: ch.Type.String(),
				Key: ch.Key, Rev: ch.Revision}
			if ch.Relist {
				e.Detail = "relist"
			}
			env.Rec.Record(e)
		}
		c.OnAdd(observe)
		c.OnUpdate(observe)
		c.OnDelete(observe)
		w.mu.Lock()
		w.caches = append(w.caches, wc)
		w.mu.Unlock()
		w.done.Go(func() {
			if err := c.Run(cctx); err != nil { // refused: it will not converge, and the final record says so
				env.Rec.Record(history.Event{Kind: history.KindObserve, Episode: env.Episode, Workload: "watch", Node: wc.name, F: FFinal,
					Error: "cache stopped: " + err.Error()})
			}
		})
	}
	for _, wc := range w.caches {
		if err := wc.cache.WaitForSync(ctx); err != nil {
			return fmt.Errorf("workload: watch %s: %w", wc.name, err)
		}
		env.Rec.Record(history.Event{Kind: history.KindObserve, Episode: env.Episode, Workload: "watch", Node: wc.name, F: FSynced,
			Rev: wc.cache.Revision()})
	}
	if w.cfg.MuxWatches > 0 {
		m, err := w.startMux(ctx, cctx, env)
		if err != nil {
			return err
		}
		w.mu.Lock()
		w.mux = m
		w.mu.Unlock()
	}
	return nil
}

// writer creates mappings and deletes about one in three of the ones it created.
func (w *Watch) writer(ctx context.Context, env *Env, node string, rng *rand.Rand) {
	process := env.Rec.NewProcess()
	project := WatchProject(env.Episode)
	var created []string
	for ctx.Err() == nil {
		if !env.Limiter.Wait(ctx) {
			return
		}
		if len(created) > 0 && rng.IntN(3) == 0 {
			i := rng.IntN(len(created))
			uuid := created[i]
			created = slices.Delete(created, i, i+1)
			if w.delete(env, process, node, uuid) == history.KindInfo {
				process = env.Rec.NewProcess()
			}
			continue
		}
		uuid := uuidFrom(rng)
		kind := w.create(env, process, node, project, uuid, "")
		switch kind {
		case history.KindOK:
			created = append(created, uuid)
		case history.KindInfo:
			process = env.Rec.NewProcess()
		}
	}
}

// create records and makes one create.
func (w *Watch) create(env *Env, process int, node, project, uuid, mark string) history.Kind {
	inv := env.Rec.Invoke(history.Event{Process: process, Workload: "watch", F: FCreate, Key: uuid, Node: node, Value: mark})
	octx, cancel := context.WithTimeout(env.OpCtx, w.cfg.Timeout)
	_, meta, err := env.Client(node).PutInstanceMapping(octx, uuid, api.InstanceMappingPut{ProjectID: project}, client.Condition{IfAbsent: true})
	cancel()
	kind, code := ClassifyWrite(err)
	done := history.Event{Error: code}
	if kind == history.KindOK {
		done.Rev = meta.Index
	}
	env.Rec.Complete(inv, kind, done)
	return kind
}

// delete records and makes one unconditional delete.
func (w *Watch) delete(env *Env, process int, node, uuid string) history.Kind {
	inv := env.Rec.Invoke(history.Event{Process: process, Workload: "watch", F: FDelete, Key: uuid, Node: node})
	octx, cancel := context.WithTimeout(env.OpCtx, w.cfg.Timeout)
	meta, err := env.Client(node).DeleteInstanceMapping(octx, uuid, 0)
	cancel()
	kind, code := ClassifyWrite(err)
	done := history.Event{Error: code}
	if kind == history.KindOK {
		done.Rev = meta.Index
	}
	env.Rec.Complete(inv, kind, done)
	return kind
}

// Final implements Workload: one more create must succeed (so that every earlier entry is
// committed), then a linearizable listing of the project gives the final state; each cache
// is given until ctx ends to reach the listing's index, and its state is recorded. The
// caches stop at the end.
func (w *Watch) Final(ctx context.Context, env *Env) error {
	defer w.stopCaches()
	project := WatchProject(env.Episode)
	process := env.Rec.NewProcess()
	rng := rand.New(rand.NewPCG(env.Seed^0x66696e616c, uint64(env.Episode)))
	wrote := false
	for attempt := 0; attempt < w.cfg.FinalAttempts && ctx.Err() == nil && !wrote; attempt++ {
		node := env.Nodes[attempt%len(env.Nodes)]
		switch w.create(env, process, node, project, uuidFrom(rng), FinalMark) {
		case history.KindOK:
			wrote = true
		case history.KindInfo:
			process = env.Rec.NewProcess()
		}
		if !wrote {
			pause(ctx, 500*time.Millisecond)
		}
	}
	if !wrote {
		return errors.New("workload: watch: the final write never succeeded")
	}
	index, err := w.finalListing(ctx, env, process, project)
	if err != nil {
		return err
	}
	w.mu.Lock()
	caches, mux := append([]*watchCache(nil), w.caches...), w.mux
	w.mu.Unlock()
	for _, wc := range caches {
		w.recordFinal(ctx, env, wc, index)
	}
	if mux != nil {
		mux.recordFinal(ctx, index)
	}
	return nil
}

// finalListing lists the project linearizably (trying the nodes in turn) and records it.
func (w *Watch) finalListing(ctx context.Context, env *Env, process int, project string) (uint64, error) {
	last := errors.New("no attempt made")
	for attempt := 0; attempt < w.cfg.FinalAttempts && ctx.Err() == nil; attempt++ {
		node := env.Nodes[attempt%len(env.Nodes)]
		inv := env.Rec.Invoke(history.Event{Process: process, Workload: "watch", F: FList, Key: project, Node: node, Value: history.ListFinal})
		elems, index, err := w.list(ctx, env.Client(node), project)
		if err == nil {
			env.Rec.Complete(inv, history.KindOK, history.Event{Elements: elems, ServerIndex: index})
			return index, nil
		}
		last = err
		env.Rec.Complete(inv, history.KindFail, history.Event{Error: orMessage(client.CodeOf(err), err)})
		pause(ctx, 500*time.Millisecond)
	}
	return 0, fmt.Errorf("workload: watch: final listing of %s failed: %w", project, last)
}

// list reads every mapping of the project, page by page, and returns the lowest index of the
// pages (no write happens any more, so all pages show the same state).
func (w *Watch) list(ctx context.Context, c *client.Client, project string) ([]string, uint64, error) {
	var out []string
	var index uint64
	marker := ""
	for page := 0; page < 10000; page++ {
		v := url.Values{"project_id": {project}, "limit": {"1000"}}
		if marker != "" {
			v.Set("marker", marker)
		}
		var l api.InstanceMappingList
		pctx, cancel := context.WithTimeout(ctx, 2*w.cfg.Timeout)
		m, err := c.Do(pctx, http.MethodGet, "/v1/instance-mappings?"+v.Encode(), nil, nil, &l)
		cancel()
		if err != nil {
			return nil, 0, err
		}
		if index == 0 || m.Index < index {
			index = m.Index
		}
		for _, im := range l.InstanceMappings {
			out = append(out, im.InstanceUUID)
		}
		if l.NextMarker == "" || len(l.InstanceMappings) == 0 {
			slices.Sort(out)
			return out, index, nil
		}
		marker = l.NextMarker
	}
	return nil, 0, errors.New("workload: listing did not end after 10000 pages")
}

// recordFinal waits until a cache has reached index (or ctx ends) and records its state.
func (w *Watch) recordFinal(ctx context.Context, env *Env, wc *watchCache, index uint64) {
	e := history.Event{Kind: history.KindObserve, Episode: env.Episode, Workload: "watch", Node: wc.name, F: FFinal}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for wc.cache.Revision() < index && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	e.Rev = wc.cache.Revision()
	e.Data, _ = json.Marshal(history.CacheStats{Reconnects: wc.cache.Reconnects(), Relists: wc.cache.Relists()})
	if e.Rev < index {
		e.Error = fmt.Sprintf("did not reach the final listing's index %d (at %d, %d relists, %d reconnects)", index, e.Rev,
			wc.cache.Relists(), wc.cache.Reconnects())
	}
	ms, err := wc.cache.ByProject(WatchProject(env.Episode))
	if err != nil && !errors.Is(err, client.ErrStale) {
		e.Error = err.Error()
	}
	for _, m := range ms {
		e.Elements = append(e.Elements, m.InstanceUUID)
	}
	env.Rec.Record(e)
}

// stopCaches ends the episode's caches and waits for them.
func (w *Watch) stopCaches() {
	w.mu.Lock()
	stop := w.stop
	w.mu.Unlock()
	if stop != nil {
		stop()
	}
	w.done.Wait()
}
