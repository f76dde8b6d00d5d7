package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellmap/cellmap/api"
)

// follower is the state of a running cache's list and watch loop. The fields above mu are
// touched by the loop's goroutine only; the probe goroutine reads the rest.
type follower struct {
	c  *Cache
	ep int // the endpoint in use

	// building is a listing not yet in place: the stream's events up to target apply to it
	// silently, then it replaces the live state (diffed into changes).
	building  *cacheState
	target    uint64
	listStart int64
	needList  bool

	// lastRev, lastSub: the last event applied (events at or before it are repeats).
	lastRev uint64
	lastSub uint32
	// liveEvents counts the events applied to the live state.
	liveEvents int

	// relisting is set while a listing is built (the live state does not advance then).
	relisting atomic.Bool

	// complete: every matching change up to it is applied (resume with since=complete).
	complete atomic.Uint64
	// lastLine is when the open stream last sent a line (ns after the epoch).
	lastLine atomic.Int64

	mu       sync.Mutex
	client   *Client
	cancel   context.CancelFunc // of the open stream
	openedAt int64
	probes   []probe // linearizable indexes not reached yet, oldest first
	cut      bool    // the stream was cut for staleness
}

// probe is the index a linearizable read started at time at returned.
type probe struct {
	at    int64
	index uint64
}

// errCut ends a stream the cache left because it fell more than MaxStaleness behind.
var errCut = errors.New("cellmap: stream fell behind MaxStaleness, moving to another node")

// Run makes the cache follow the cluster until ctx ends (it then returns nil). It returns an
// error only when a node refuses the cache's request as such (400, 401, 403: every node would
// say the same) or when called twice.
func (c *Cache) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("client: Cache.Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	f := &follower{c: c, needList: true}
	var wg sync.WaitGroup
	wg.Go(func() { f.probeLoop(ctx) })
	err := f.loop(ctx)
	cancel()
	wg.Wait()
	return err
}

func (c *Cache) now() int64 { return int64(time.Since(c.epoch)) }

// loop runs sessions (list if needed, then watch) on the endpoints in turn.
func (f *follower) loop(ctx context.Context) error {
	c := f.c
	failures, backoff := 0, c.cfg.MinBackoff
	for first := true; ; first = false {
		if !first {
			c.reconnect.Add(1)
		}
		progressed, err := f.session(ctx, c.clients[f.ep])
		if ctx.Err() != nil {
			return nil
		}
		if CodeOf(err) == api.CodeMarkerNotFound { // a page's marker was deleted meanwhile
			c.logger.Info("the listing's marker was deleted meanwhile, listing again", "endpoint", c.clients[f.ep].Addr())
			continue
		}
		var e *Error
		if errors.As(err, &e) && (e.Status == http.StatusBadRequest || e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden) {
			return fmt.Errorf("cellmap cache: %s refused the cache: %w", c.clients[f.ep].Addr(), err)
		}
		if _, ok := IsCompacted(err); ok {
			c.logger.Info("history compacted, listing again", "endpoint", c.clients[f.ep].Addr(), "since", f.complete.Load())
			f.needList = true
			continue
		}
		if progressed {
			failures, backoff = 0, c.cfg.MinBackoff
		}
		c.logger.Warn("change stream failed, trying the next endpoint", "endpoint", c.clients[f.ep].Addr(), "error", err)
		f.ep = (f.ep + 1) % len(c.clients)
		if failures++; failures%len(c.clients) == 0 {
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			backoff = min(2*backoff, c.cfg.MaxBackoff)
		}
	}
}

// session lists (when needed) and watches from one endpoint until it fails; progressed says
// whether the stream delivered anything.
func (f *follower) session(ctx context.Context, cl *Client) (progressed bool, err error) {
	f.c.endpoint.Store(int32(f.ep))
	if f.needList {
		if err := f.list(ctx, cl); err != nil {
			return false, err
		}
		f.needList = false
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f.mu.Lock()
	f.client, f.cancel, f.openedAt, f.cut = cl, cancel, f.c.now(), false
	f.mu.Unlock()
	f.c.endpoint.Store(int32(f.ep))
	// No cell_uuid on the stream: a filtered stream cannot say that a record moved out of the
	// cell, so the cache filters the cell itself (apply, inCell).
	q := WatchQuery{Kinds: f.c.cfg.Kinds, Since: f.complete.Load(), SinceGiven: true, ProjectID: f.c.cfg.ProjectID,
		Linearizable: true, ProgressInterval: f.c.cfg.ProgressInterval}
	err = cl.Watch(sctx, q, nil, func(ev *api.WatchEvent) error {
		progressed = true
		return f.line(ev)
	})
	f.mu.Lock()
	cut := f.cut
	f.cancel = nil
	f.mu.Unlock()
	if cut && ctx.Err() == nil {
		return progressed, errCut
	}
	return progressed, err
}

// line applies one line of the stream.
func (f *follower) line(ev *api.WatchEvent) error {
	f.lastLine.Store(f.c.now())
	switch ev.Type {
	case api.WatchTypeProgress:
		f.advance(ev.Revision)
		if f.building != nil && ev.Revision >= f.target {
			f.finishList()
		}
	case api.WatchTypeEvent:
		if ev.Revision < f.lastRev || (ev.Revision == f.lastRev && ev.Sub <= f.lastSub) {
			return nil // a repeat after a resume in the middle of a transaction
		}
		if f.building != nil && ev.Revision > f.target {
			f.finishList()
		}
		if err := f.apply(ev); err != nil {
			return err
		}
	default:
		return nil // a line type this client does not know
	}
	if f.building == nil {
		f.c.revision.Store(max(f.complete.Load(), f.lastRev))
		f.checkFresh()
	}
	return nil
}

// advance records that every change up to rev is applied.
func (f *follower) advance(rev uint64) {
	if rev > f.complete.Load() {
		f.complete.Store(rev)
	}
}

// apply applies an event to the listing being built (silently) or to the live state (firing
// the handlers).
func (f *follower) apply(ev *api.WatchEvent) error {
	var rec any
	if ev.Op == api.WatchOpPut {
		var err error
		if rec, err = decodeRecord(ev.Kind, ev.Record); err != nil {
			return err
		}
		if !f.c.inCell(rec) {
			rec = nil // a record now outside the cell: a delete for the cache
		}
	} else if ev.Op != api.WatchOpDelete {
		return fmt.Errorf("cellmap: change stream sent op %q", ev.Op)
	}
	f.advance(ev.Revision - 1)
	f.lastRev, f.lastSub = ev.Revision, ev.Sub
	if f.building != nil {
		if _, ok := f.building.records[ev.Kind]; !ok {
			return fmt.Errorf("cellmap: change stream sent kind %q the cache did not ask for", ev.Kind)
		}
		if rec != nil {
			f.building.put(ev.Kind, ev.Key, rec)
		} else {
			f.building.remove(ev.Kind, ev.Key)
		}
		return nil
	}
	if f.liveEvents++; f.bugDrops(ev) {
		return nil
	}
	c := f.c
	ch := Change{Kind: ev.Kind, Key: ev.Key, Revision: ev.Revision, Sub: ev.Sub, New: rec}
	c.mu.Lock()
	if _, ok := c.state.records[ev.Kind]; !ok {
		c.mu.Unlock()
		return fmt.Errorf("cellmap: change stream sent kind %q the cache did not ask for", ev.Kind)
	}
	if rec != nil {
		ch.Old = c.state.put(ev.Kind, ev.Key, rec)
	} else {
		ch.Old = c.state.remove(ev.Kind, ev.Key)
	}
	c.mu.Unlock()
	switch {
	case rec == nil && ch.Old == nil:
		return nil // the delete of a record the cache never held
	case rec == nil:
		ch.Type = ChangeDelete
	case ch.Old == nil:
		ch.Type = ChangeAdd
	default:
		ch.Type = ChangeUpdate
	}
	c.fire([]Change{ch})
	return nil
}

// finishList puts the listing in place of the live state and fires the difference.
func (f *follower) finishList() {
	c := f.c
	rev := max(f.complete.Load(), f.lastRev, f.target)
	c.mu.Lock()
	old := c.state
	if old == nil {
		old = newCacheState(c.cfg.Kinds)
	}
	changes := old.diff(f.building, c.cfg.Kinds, rev)
	c.state, f.building = f.building, nil
	c.mu.Unlock()
	f.relisting.Store(false)
	for i := range changes {
		changes[i].Relist = true
	}
	c.revision.Store(rev)
	f.fresh(f.listStart)
	f.checkFresh()
	c.fire(changes)
	c.syncOnce.Do(func() { close(c.synced) }) // after the first listing's adds have fired
}

// fresh records that every write acknowledged before at (ns after the epoch) is applied.
func (f *follower) fresh(at int64) {
	for {
		cur := f.c.freshAt.Load()
		if at <= cur || f.c.freshAt.CompareAndSwap(cur, at) {
			return
		}
	}
}

// checkFresh moves freshAt to the newest probe whose index the live state has reached.
func (f *follower) checkFresh() {
	if f.relisting.Load() {
		return
	}
	reached := f.complete.Load()
	f.mu.Lock()
	var at int64
	n := 0
	for _, p := range f.probes {
		if p.index > reached {
			break
		}
		at, n = p.at, n+1
	}
	f.probes = f.probes[n:]
	f.mu.Unlock()
	if n > 0 {
		f.fresh(at)
	}
}

// list reads every record the cache keeps into a new state to build. Each page has its own
// index: the stream resumes from the lowest, and the listing goes live once the stream has
// passed the highest (by then every record is as of one revision).
func (f *follower) list(ctx context.Context, cl *Client) error {
	c := f.c
	start := c.now()
	st := newCacheState(c.cfg.Kinds)
	lo, hi := uint64(math.MaxUint64), uint64(0)
	seen := func(index uint64) {
		lo, hi = min(lo, index), max(hi, index)
	}
	for _, kind := range c.cfg.Kinds {
		if err := f.listKind(ctx, cl, kind, st, seen); err != nil {
			return err
		}
	}
	if c.state != nil {
		c.relists.Add(1)
	}
	f.relisting.Store(true)
	f.building, f.target, f.listStart = st, hi, start
	f.complete.Store(lo)
	f.lastRev, f.lastSub = lo, math.MaxUint32
	if lo == hi {
		f.finishList()
	}
	return nil
}

// probeLoop bounds the cache's staleness: every ProbeInterval it asks the node it watches
// for a linearizable index (the cache is current as of the probe's start once its stream
// reaches that index), and it cuts a stream that has stayed more than MaxStaleness behind,
// or sent nothing for that long (a paused or unreachable node; also before the first
// listing is in place), so that the loop moves to another node.
func (f *follower) probeLoop(ctx context.Context) {
	c := f.c
	t := time.NewTicker(c.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f.mu.Lock()
		cl, openedAt := f.client, f.openedAt
		f.mu.Unlock()
		if cl == nil {
			continue
		}
		start := c.now()
		pctx, cancel := context.WithTimeout(ctx, min(c.cfg.ProbeInterval, c.cfg.RequestTimeout))
		m, err := cl.Do(pctx, http.MethodGet, "/v1/instance-mappings?limit=1", nil, nil, nil)
		cancel()
		if err == nil && m.Index > 0 {
			f.mu.Lock()
			f.probes = append(f.probes, probe{at: start, index: m.Index})
			if len(f.probes) > 64 {
				f.probes = f.probes[len(f.probes)-64:]
			}
			f.mu.Unlock()
			if c.HasSynced() {
				f.checkFresh()
			}
		}
		now := c.now()
		behind := c.HasSynced() && c.Staleness() > c.cfg.MaxStaleness
		silent := time.Duration(now-max(openedAt, f.lastLine.Load())) > c.cfg.MaxStaleness // progress lines stopped
		if (behind || silent) && time.Duration(now-openedAt) > c.cfg.MaxStaleness {
			f.mu.Lock()
			if f.cancel != nil && f.client == cl {
				c.logger.Warn("cache fell behind MaxStaleness, leaving its node", "endpoint", cl.Addr(), "staleness", c.Staleness())
				f.cut = true
				f.cancel()
			}
			f.mu.Unlock()
		}
	}
}

// inCell says whether a streamed record belongs in a cache of CacheConfig.CellUUID (every
// record does without one): the cell itself and the mappings in it, as the listings filter.
func (c *Cache) inCell(rec any) bool {
	cell := c.cfg.CellUUID
	if cell == "" {
		return true
	}
	switch r := rec.(type) {
	case *api.InstanceMapping:
		return r.CellUUID != nil && *r.CellUUID == cell
	case *api.HostMapping:
		return r.CellUUID == cell
	case *api.Cell:
		return r.UUID == cell
	}
	return false
}
