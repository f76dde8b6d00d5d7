package cellproxy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
	"github.com/hashicorp/go-hclog"
)

// Store is what the data plane needs of the replicated state (a *node.Node).
type Store interface {
	Apply(ctx context.Context, c fsm.Command) (*fsm.Result, error)
	Read(ctx context.Context, c node.Consistency, fn func(r *fsm.Reader) error) (node.ReadInfo, error)
}

// Proxy is the data plane of one cellmapd node.
type Proxy struct {
	cfg      Config
	store    Store
	registry *Registry
	cells    *cellClient
	logger   hclog.Logger
	now      func() time.Time

	base       context.Context // ends at Close; parent of background work
	stop       context.CancelFunc
	wg         sync.WaitGroup
	jobs       chan scheduleJob // servers waiting for a scheduling worker
	mu         sync.Mutex
	scheduling map[string]bool // instance uuids queued or being scheduled by this node
}

// New returns a data plane over store, with cell health from registry.
func New(cfg *Config, store Store, registry *Registry) (*Proxy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Proxy{cfg: *cfg, store: store, registry: registry, cells: newCellClient(cfg.HTTP, cfg.TLS, cfg.observer()),
		logger: cfg.Logger, now: time.Now, jobs: make(chan scheduleJob, cfg.MaxQueuedSchedules), scheduling: map[string]bool{}}
	if p.logger == nil {
		p.logger = hclog.NewNullLogger()
	}
	p.base, p.stop = context.WithCancel(context.Background())
	registry.attach(p, cfg.ForgetConductorsAfter)
	for i := 0; i < cfg.MaxScheduling; i++ {
		p.wg.Add(1)
		go p.scheduleWorker()
	}
	return p, nil
}

// CellAddr implements Directory from this node's copy of the cell mappings: routing follows
// the replicated mapping (ConductorAddr), never gossip. The read is local: a mapping change
// reaches this node's state before any request that depends on it could be routed wrongly
// for long, and a missing mapping only makes the cell look down.
func (p *Proxy) CellAddr(cellUUID string) (string, bool) {
	var cell *fsm.Cell
	// LocalUnchecked: routing must work while the cluster has no leader (down-cell listings).
	err := p.read(context.Background(), node.LocalUnchecked{}, func(r *fsm.Reader) error {
		var err error
		cell, err = r.Cell(cellUUID)
		return err
	})
	if err != nil {
		return "", false
	}
	return ConductorAddr(cell, p.cfg.BaseTransportURL, p.cfg.BaseDatabaseConnection)
}

// Close stops background scheduling, waits for it and closes idle conductor connections.
func (p *Proxy) Close() {
	p.stop()
	p.wg.Wait()
	p.cells.closeIdle()
}

// Registry returns the cell health registry.
func (p *Proxy) Registry() *Registry { return p.registry }

// read runs fn on one view of the state, as fresh as c asks.
func (p *Proxy) read(ctx context.Context, c node.Consistency, fn func(r *fsm.Reader) error) error {
	_, err := p.store.Read(ctx, c, fn)
	return err
}

// apply proposes c and returns its domain error, if any.
func (p *Proxy) apply(ctx context.Context, c fsm.Command) (*fsm.Result, error) {
	res, err := p.store.Apply(ctx, c)
	if err != nil {
		return nil, err
	}
	if res.Err != nil {
		return res, res.Err
	}
	return res, nil
}

// cellCall runs fn against a usable conductor of the cell. A cell with none is ErrCellDown; a
// conductor that fails at the transport level (its TLS identity refused included) or does not
// answer within CellRequestTimeout is marked failed. The caller's own cancellation or deadline
// is not the conductor's failure and never marks it. fn's context names the cell, which the
// conductor's certificate must carry.
func (p *Proxy) cellCall(ctx context.Context, cellUUID string, fn func(ctx context.Context, addr string) error) error {
	addr, ok := p.registry.Conductor(cellUUID)
	if !ok {
		return fmt.Errorf("cell %s: %w", cellUUID, ErrCellDown)
	}
	cctx, cancel := context.WithTimeout(withCell(ctx, cellUUID), p.cfg.CellRequestTimeout)
	defer cancel()
	err := fn(cctx, addr)
	if err != nil && ctx.Err() != nil {
		return errors.Join(err, ctx.Err())
	}
	if errors.Is(err, errUnreachable) || errors.Is(err, ErrOutcomeUnknown) {
		p.registry.MarkFailed(cellUUID, addr)
		p.logger.Warn("cell request failed; marking its conductor failed", "cell", cellUUID, "conductor", addr, "error", err)
		if errors.Is(err, errUnreachable) {
			return fmt.Errorf("cell %s: %w: %v", cellUUID, ErrCellDown, err)
		}
	}
	return err
}
