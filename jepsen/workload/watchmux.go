package workload

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/jepsen/history"
)

// A mux observer follows the episode's project with several watches on one POST /v1/watch
// stream (client.WatchMany), moving to the next node when its stream fails and resuming each
// watch from its own revision. Each watch is recorded as an observer of its own, as a cache
// is ("mux/a", "mux/b"), so the watch checker holds every watch of the stream to the same
// rules: the acknowledged writes, each once, in order, no gap, and the final listing.

// muxWatch is one watch of the mux observer: the keys it holds and how far it has got.
type muxWatch struct {
	name string
	keys map[string]bool
	// done is the revision up to which it has every change; lastRev/lastSub its last event.
	done    uint64
	lastRev uint64
	lastSub uint32
	failed  string
	// events counts the events it was sent (the watchbug build drops one).
	events int
}

// muxObserver is the stream of an episode's mux watches.
type muxObserver struct {
	cfg     WatchConfig
	env     *Env
	project string
	mu      sync.Mutex
	watches map[string]*muxWatch
	ids     []string
	streams int
	// first is where the stream starts: the leader's node when known, so that the
	// leader-targeted faults cut it.
	first int
}

// startMux starts the mux observer at the node's applied index (no write of the episode's
// project has been made yet, so every watch starts empty) and records each watch as synced.
func (w *Watch) startMux(ctx, runCtx context.Context, env *Env) (*muxObserver, error) {
	m := &muxObserver{cfg: w.cfg, env: env, project: WatchProject(env.Episode), watches: map[string]*muxWatch{}}
	var start uint64
	var err error
	for attempt := 0; attempt < w.cfg.FinalAttempts && ctx.Err() == nil; attempt++ {
		if start, err = m.index(ctx, env.Nodes[attempt%len(env.Nodes)]); err == nil {
			break
		}
		pause(ctx, 200*time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("workload: watch mux: %w", err)
	}
	for i := range w.cfg.MuxWatches {
		id := string(rune('a' + i))
		mw := &muxWatch{name: "mux/" + id, keys: map[string]bool{}, done: start}
		m.watches[id], m.ids = mw, append(m.ids, id)
		env.Rec.Record(history.Event{Kind: history.KindObserve, Episode: env.Episode, Workload: "watch", Node: mw.name, F: FSynced, Rev: start})
	}
	m.first = m.leaderPlace(ctx)
	w.done.Go(func() { m.run(runCtx) })
	return m, nil
}

// leaderPlace is the leader's place in env.Nodes (0 when not known).
func (m *muxObserver) leaderPlace(ctx context.Context) int {
	sctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	st, err := m.env.Client(m.env.Nodes[0]).ClusterStatus(sctx)
	if err != nil {
		return 0
	}
	return max(slices.Index(m.env.Nodes, st.LeaderID), 0)
}

// index is a linearizable read's index of the project's mappings on node.
func (m *muxObserver) index(ctx context.Context, node string) (uint64, error) {
	rctx, cancel := context.WithTimeout(ctx, 2*m.cfg.Timeout)
	defer cancel()
	var l api.InstanceMappingList
	meta, err := m.env.Client(node).Do(rctx, http.MethodGet, "/v1/instance-mappings?"+url.Values{"project_id": {m.project}, "limit": {"1"}}.Encode(), nil, nil, &l)
	return meta.Index, err
}

// run streams from node after node until ctx ends.
func (m *muxObserver) run(ctx context.Context) {
	backoff := 50 * time.Millisecond
	for i := 0; ctx.Err() == nil; i++ {
		if m.open() == 0 {
			return
		}
		node := m.env.Nodes[(m.first+i)%len(m.env.Nodes)]
		if m.stream(ctx, node) {
			backoff = 50 * time.Millisecond
		} else {
			backoff = min(2*backoff, 500*time.Millisecond)
		}
		pause(ctx, backoff)
	}
}

// open counts the watches that have not failed.
func (m *muxObserver) open() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := 0
	for _, mw := range m.watches {
		if mw.failed == "" {
			k++
		}
	}
	return k
}

// stream runs one stream of the open watches on node, each from its own revision, and
// reports whether it delivered anything.
func (m *muxObserver) stream(ctx context.Context, node string) bool {
	req := api.WatchRequest{ProgressInterval: m.cfg.ProgressInterval.String()}
	m.mu.Lock()
	for _, id := range m.ids {
		mw := m.watches[id]
		if mw.failed != "" {
			continue
		}
		// Resume from the last revision it has whole: the one before its last event when
		// a stream may have been cut inside that revision (its changes seen are skipped).
		since := mw.done
		if mw.lastRev > mw.done {
			since = mw.lastRev - 1
		}
		req.Watches = append(req.Watches, api.WatchSpec{ID: id, Kinds: []string{api.KindInstanceMappings}, ProjectID: m.project, Since: &since})
	}
	m.streams++
	m.mu.Unlock()
	progressed := false
	_ = m.env.Client(node).WatchMany(ctx, req, nil, func(ev *api.WatchEvent) error {
		progressed = true
		m.line(ev)
		return nil
	})
	return progressed
}

// line applies one line of the stream to its watch (a progress line to every watch).
func (m *muxObserver) line(ev *api.WatchEvent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch ev.Type {
	case api.WatchTypeProgress:
		for _, mw := range m.watches {
			mw.done = max(mw.done, ev.Revision)
		}
		return
	case api.WatchTypeError:
		if mw := m.watches[ev.WatchID]; mw != nil && ev.Code == api.CodeCompacted {
			mw.failed = "history compacted at " + fmt.Sprint(ev.Compacted) + " (the observer does not list again)"
		}
		return // slow_consumer: the stream ends and every watch resumes
	}
	mw := m.watches[ev.WatchID]
	if mw == nil || ev.Revision == mw.lastRev && ev.Sub <= mw.lastSub {
		return // seen before the stream was cut inside its revision (it resumes before it)
	}
	if mw.events++; mw.muxBugDrops() {
		mw.lastRev, mw.lastSub = ev.Revision, ev.Sub
		return
	}
	f := "add"
	switch {
	case ev.Op == api.WatchOpDelete:
		f = "delete"
		delete(mw.keys, ev.Key)
	case mw.keys[ev.Key]:
		f = "update"
	default:
		mw.keys[ev.Key] = true
	}
	mw.lastRev, mw.lastSub = ev.Revision, ev.Sub
	m.env.Rec.Record(history.Event{Kind: history.KindObserve, Episode: m.env.Episode, Workload: "watch", Node: mw.name, F: f, Key: ev.Key, Rev: ev.Revision})
}

// recordFinal waits until every watch has reached index (or ctx ends) and records each
// watch's state.
func (m *muxObserver) recordFinal(ctx context.Context, index uint64) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for ctx.Err() == nil && !m.reached(index) {
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range m.ids {
		mw := m.watches[id]
		e := history.Event{Kind: history.KindObserve, Episode: m.env.Episode, Workload: "watch", Node: mw.name, F: FFinal,
			Rev: max(mw.done, mw.lastRev), Elements: slices.Sorted(maps.Keys(mw.keys))}
		e.Data, _ = json.Marshal(history.CacheStats{Reconnects: uint64(max(m.streams-1, 0))})
		switch {
		case mw.failed != "":
			e.Error = mw.failed
		case e.Rev < index:
			e.Error = fmt.Sprintf("did not reach the final listing's index %d (at %d, %d streams opened)", index, e.Rev, m.streams)
		}
		m.env.Rec.Record(e)
	}
}

func (m *muxObserver) reached(index uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mw := range m.watches {
		if mw.failed == "" && max(mw.done, mw.lastRev) < index {
			return false
		}
	}
	return true
}
