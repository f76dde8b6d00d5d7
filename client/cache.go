package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/hashicorp/go-hclog"
)

// Cache is a local copy of cellmap records that follows the cluster, informer style: it lists
// the records it keeps, then watches the change stream from the listing's revision, moving
// to another endpoint when its node fails (resuming after the last revision it saw, so no
// change is missed or repeated) and listing again when the history it needs is compacted.
// Reads are local and fast; each says when the copy may be older than MaxStaleness.
//
// Records returned by the cache are shared: callers must not modify them.
type Cache struct {
	cfg     CacheConfig
	logger  hclog.Logger
	clients []*Client

	mu    sync.RWMutex
	state *cacheState // live state; nil until synced

	handlerMu sync.Mutex
	handlers  [3][]func(Change)

	synced    chan struct{} // closed once the first listing is in place
	syncOnce  sync.Once
	running   atomic.Bool
	revision  atomic.Uint64
	epoch     time.Time    // monotonic reference of the times below
	freshAt   atomic.Int64 // ns after epoch the state was last known complete (0: never)
	relists   atomic.Uint64
	reconnect atomic.Uint64
	endpoint  atomic.Int32 // index in clients of the node in use
}

// Errors of the cache's reads.
var (
	// ErrNotSynced: the cache has not finished its first listing (see WaitForSync).
	ErrNotSynced = errors.New("cellmap: cache not synced yet")
	// ErrStale: the cache may be older than MaxStaleness; the answer returned with it is the
	// cache's, possibly out of date.
	ErrStale = errors.New("cellmap: cache is stale")
	// ErrNotFound: the cache holds no such record.
	ErrNotFound = errors.New("cellmap: not in cache")
)

// ChangeType says what a Change did.
type ChangeType int

// The types of a change.
const (
	ChangeAdd ChangeType = iota
	ChangeUpdate
	ChangeDelete
)

func (t ChangeType) String() string {
	switch t {
	case ChangeAdd:
		return "add"
	case ChangeUpdate:
		return "update"
	case ChangeDelete:
		return "delete"
	}
	return fmt.Sprintf("ChangeType(%d)", int(t))
}

// Change is one change of the cache, passed to its handlers. Old and New are
// *api.InstanceMapping, *api.HostMapping, *api.Cell or *api.Flavor (nil when absent: Old on
// an add, New on a delete).
type Change struct {
	Type ChangeType
	Kind string
	Key  string
	// Revision and Sub identify the write (Sub orders the changes of one transaction); the
	// changes of a first listing or a relist carry the listing's revision and Sub 0.
	Revision uint64
	Sub      uint32
	// Relist is set on the changes a listing made (the first one, or a relist after the
	// history was compacted), as opposed to a streamed event.
	Relist   bool
	Old, New any
}

// NewCache returns a cache configured by cfg; Run makes it follow the cluster.
func NewCache(cfg *CacheConfig) (*Cache, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cache{cfg: *cfg, logger: cfg.Logger, synced: make(chan struct{}), epoch: time.Now()}
	c.cfg.Kinds = append([]string(nil), cfg.Kinds...)
	if c.logger == nil {
		c.logger = hclog.NewNullLogger()
	}
	c.clients = append(c.clients, cfg.Clients...)
	for _, e := range cfg.Endpoints {
		if len(cfg.Clients) > 0 {
			break
		}
		cl, err := NewWithConfig(&Config{Addr: e, TLS: cfg.TLS, HTTP2: cfg.HTTP2, HTTP: cfg.HTTP, Token: cfg.Token})
		if err != nil {
			return nil, err
		}
		c.clients = append(c.clients, cl)
	}
	return c, nil
}

// OnAdd registers fn for records that appear. Handlers run one at a time, in revision order,
// on the cache's goroutine, after the cache holds the change: they must not block for long.
func (c *Cache) OnAdd(fn func(Change)) { c.addHandler(ChangeAdd, fn) }

// OnUpdate registers fn for records that change.
func (c *Cache) OnUpdate(fn func(Change)) { c.addHandler(ChangeUpdate, fn) }

// OnDelete registers fn for records that disappear.
func (c *Cache) OnDelete(fn func(Change)) { c.addHandler(ChangeDelete, fn) }

func (c *Cache) addHandler(t ChangeType, fn func(Change)) {
	c.handlerMu.Lock()
	defer c.handlerMu.Unlock()
	c.handlers[t] = append(c.handlers[t], fn)
}

func (c *Cache) fire(changes []Change) {
	if len(changes) == 0 {
		return
	}
	c.handlerMu.Lock()
	hs := c.handlers
	c.handlerMu.Unlock()
	for _, ch := range changes {
		for _, fn := range hs[ch.Type] {
			fn(ch)
		}
	}
}

// HasSynced reports whether the first listing is in place and its adds have fired.
func (c *Cache) HasSynced() bool {
	select {
	case <-c.synced:
		return true
	default:
		return false
	}
}

// WaitForSync waits until the first listing is in place or ctx ends.
func (c *Cache) WaitForSync(ctx context.Context) error {
	select {
	case <-c.synced:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrNotSynced, ctx.Err())
	}
}

// Revision is the revision the cache has reached: every matching change up to it is in the
// cache.
func (c *Cache) Revision() uint64 { return c.revision.Load() }

// Staleness bounds how far behind the cluster the cache may be: every write the cluster
// acknowledged more than Staleness() ago is in the cache. It is measured from the start of
// the last linearizable request (a listing or a probe of the node watched) whose index the
// cache has reached; before the first sync it is the cache's age.
func (c *Cache) Staleness() time.Duration {
	return time.Since(c.epoch) - time.Duration(c.freshAt.Load())
}

// Endpoint is the base URL of the node the cache lists and watches from now.
func (c *Cache) Endpoint() string { return c.clients[c.endpoint.Load()].Addr() }

// Relists counts the listings after the first one (the history the cache needed was
// compacted); Reconnects counts the streams opened after the first one.
func (c *Cache) Relists() uint64    { return c.relists.Load() }
func (c *Cache) Reconnects() uint64 { return c.reconnect.Load() }

// check says whether a read may be answered: ErrNotSynced before the first listing,
// ErrStale when the cache may be older than MaxStaleness.
func (c *Cache) check(st *cacheState) error {
	if st == nil {
		return ErrNotSynced
	}
	if s := c.Staleness(); s > c.cfg.MaxStaleness {
		return fmt.Errorf("%w: last known current %v ago (MaxStaleness %v)", ErrStale, s.Round(time.Millisecond), c.cfg.MaxStaleness)
	}
	return nil
}

// Lookup returns an instance's mapping. The error is ErrNotFound when the cache holds none,
// ErrNotSynced before the first listing, and wraps ErrStale (with the cached mapping, if any)
// when the cache may be older than MaxStaleness.
func (c *Cache) Lookup(uuid string) (*api.InstanceMapping, error) {
	c.mu.RLock()
	st := c.state
	var m *api.InstanceMapping
	if st != nil {
		m = st.instances[uuid]
	}
	c.mu.RUnlock()
	if err := c.check(st); err != nil {
		return m, err
	}
	if m == nil {
		return nil, ErrNotFound
	}
	return m, nil
}

// ByProject returns the mappings of a project, ordered by instance uuid (errors as Lookup's,
// never ErrNotFound).
func (c *Cache) ByProject(project string) ([]*api.InstanceMapping, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.state == nil {
		return nil, ErrNotSynced
	}
	return sortedMappings(c.state.byProject[project]), c.check(c.state)
}

// ByCell returns the mappings of the instances in a cell, ordered by instance uuid (errors
// as ByProject's).
func (c *Cache) ByCell(cellUUID string) ([]*api.InstanceMapping, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.state == nil {
		return nil, ErrNotSynced
	}
	return sortedMappings(c.state.byCell[cellUUID]), c.check(c.state)
}

// Get returns a record of any kind the cache keeps (*api.HostMapping by host name,
// *api.Cell by uuid, *api.Flavor by id, *api.InstanceMapping by uuid); errors as Lookup's.
func (c *Cache) Get(kind, key string) (any, error) {
	c.mu.RLock()
	st := c.state
	var rec any
	if st != nil {
		rec = st.records[kind][key]
	}
	c.mu.RUnlock()
	if err := c.check(st); err != nil {
		return rec, err
	}
	if rec == nil {
		return nil, ErrNotFound
	}
	return rec, nil
}

// Len is the number of records of a kind in the cache.
func (c *Cache) Len(kind string) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.state == nil {
		return 0
	}
	return len(c.state.records[kind])
}
