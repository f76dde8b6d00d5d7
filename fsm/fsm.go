package fsm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

// Config configures an [FSM].
type Config struct {
	// Path is the bbolt file holding the state.
	Path string
	// InitialMmapSize is the initial size of bbolt's memory map in bytes. It should exceed the
	// expected database size: a snapshot holds a read transaction for as long as it streams, and
	// a writer that must grow the map waits for it. Address space only; 0 means no pre-sizing.
	InitialMmapSize int
	// Retention bounds the event history (events.go). Give every node the same values, or
	// their histories keep different windows.
	Retention Retention
	// Logger receives the FSM's messages; nil discards them.
	Logger hclog.Logger
}

// DefaultConfig returns the production settings for a state file at path.
func DefaultConfig(path string) *Config {
	return &Config{Path: path, InitialMmapSize: 1 << 30, Retention: DefaultRetention()}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Path == "" {
		return errors.New("fsm: Path is required")
	}
	if c.InitialMmapSize < 0 {
		return errors.New("fsm: InitialMmapSize must not be negative")
	}
	return c.Retention.Validate()
}

type applyCtx struct {
	tx    *bolt.Tx
	index uint64
	now   time.Time
	// sub numbers the events of the entry being applied; events counts the events appended
	// since the last pruning.
	sub    uint32
	events uint64
	// modified maps a kind to the last entry of the batch that changed it (modified.go).
	modified map[string]uint64
	// sum is the running state checksum, updated by every write (checksum.go).
	sum uint64
	// collect keeps the batch's events in published for the event sink (sink.go).
	collect   bool
	published []*Event
}

// handler applies one decoded command. A returned error is a storage failure, which is fatal; a
// domain failure is a *Result with Err set.
type handler func(ac *applyCtx, c Command) (*Result, error)

// on adapts a typed apply method to the dispatch table.
func on[C Command](fn func(*applyCtx, C) (*Result, error)) handler {
	return func(ac *applyCtx, c Command) (*Result, error) { return fn(ac, c.(C)) }
}

// FSM is the bbolt-backed raft state machine. It implements raft.BatchingFSM.
type FSM struct {
	cfg      Config
	logger   hclog.Logger
	handlers map[CommandType]handler

	// mu guards db: readers hold it shared, Restore swaps the file under it exclusively.
	mu sync.RWMutex
	db *bolt.DB

	applied  atomic.Uint64
	modified modifiedIndexes
	// notify is closed and replaced whenever applied moves.
	notify atomic.Pointer[chan struct{}]
	// sink, when set, receives every committed batch's events (sink.go); sinkMu orders
	// attaching it with publishing.
	sinkMu sync.Mutex
	sink   EventSink
}

var _ raft.BatchingFSM = (*FSM)(nil)

// Open opens (or creates) the state file. It removes the file's clean-shutdown marker first
// (cleanmark.go): from its first commit on, the file is written without fsync until Close.
func Open(cfg *Config) (*FSM, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f := &FSM{cfg: *cfg, logger: cfg.Logger, modified: newModifiedIndexes()}
	if f.logger == nil {
		f.logger = hclog.NewNullLogger()
	}
	f.handlers = map[CommandType]handler{
		CmdNoop:         on(f.applyNoop),
		CmdCreateCell:   on(f.applyCreateCell),
		CmdUpdateCell:   on(f.applyUpdateCell),
		CmdDeleteCell:   on(f.applyDeleteCell),
		CmdMapCell0:     on(f.applyMapCell0),
		CmdTxn:          on(f.applyTxn),
		CmdPutFlavor:    on(f.applyPutFlavor),
		CmdDeleteFlavor: on(f.applyDeleteFlavor),
		CmdACLBootstrap: on(f.applyACLBootstrap),
		CmdTokenCreate:  on(f.applyTokenCreate),
		CmdTokenDelete:  on(f.applyTokenDelete),
		CmdPutImage:     on(f.applyPutImage),
		CmdDeleteImage:  on(f.applyDeleteImage),
		CmdCreateUser:   on(f.applyCreateUser),
		CmdUpdateUser:   on(f.applyUpdateUser),
		CmdDeleteUser:   on(f.applyDeleteUser),
		CmdPurgeTokens:  on(f.applyPurgeTokens),
	}
	ch := make(chan struct{})
	f.notify.Store(&ch)
	if err := removeCleanMark(cfg.Path); err != nil {
		return nil, err
	}
	db, err := f.openDB(cfg.Path)
	if err != nil {
		return nil, err
	}
	f.db = db
	return f, nil
}

func (f *FSM) openDB(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         2 * time.Second,
		InitialMmapSize: f.cfg.InitialMmapSize,
		// No fsync per commit: the raft log is the durable record (cleanmark.go); Close
		// fsyncs.
		NoSync:         true,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("fsm: open %s: %w", path, err)
	}
	var applied uint64
	err = db.Update(func(tx *bolt.Tx) error {
		if err := createBuckets(tx); err != nil {
			return err
		}
		if err := initEvents(tx); err != nil {
			return err
		}
		if err := rebuildGroupIndex(tx); err != nil {
			return err
		}
		applied = readApplied(tx)
		f.modified.load(tx)
		if _, ok := readChecksum(tx); ok {
			return nil
		}
		sum, err := computeChecksum(tx)
		if err != nil {
			return err
		}
		return writeChecksum(tx, sum)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("fsm: init %s: %w", path, err)
	}
	f.setApplied(applied)
	return db, nil
}

// Close fsyncs and closes the state file, then marks it clean (cleanmark.go). Call it once
// no batch is being applied (raft has shut down).
func (f *FSM) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var m cleanMark
	err := f.db.View(func(tx *bolt.Tx) error {
		sum, _ := readChecksum(tx)
		m = cleanMark{AppliedIndex: readApplied(tx), Checksum: fmt.Sprintf("%016x", sum)}
		return nil
	})
	if err == nil {
		err = f.db.Sync()
	}
	if cerr := f.db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsm: close %s: %w", f.cfg.Path, err)
	}
	return writeCleanMark(f.cfg.Path, m)
}

func readApplied(tx *bolt.Tx) uint64 {
	v := tx.Bucket(bucketMeta).Get(keyAppliedIndex)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func writeApplied(tx *bolt.Tx, index uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], index)
	return tx.Bucket(bucketMeta).Put(keyAppliedIndex, b[:])
}

// AppliedIndex is the raft index of the last entry applied to the state.
func (f *FSM) AppliedIndex() uint64 { return f.applied.Load() }

func (f *FSM) setApplied(index uint64) {
	f.applied.Store(index)
	ch := make(chan struct{})
	old := f.notify.Swap(&ch)
	if old != nil {
		close(*old)
	}
}

// WaitApplied blocks until the state has applied index, or ctx ends.
func (f *FSM) WaitApplied(ctx context.Context, index uint64) error {
	for {
		if f.applied.Load() >= index {
			return nil
		}
		ch := *f.notify.Load()
		if f.applied.Load() >= index {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("fsm: waiting for index %d (applied %d): %w", index, f.applied.Load(), ctx.Err())
		}
	}
}

// Apply applies one log entry. raft calls ApplyBatch instead; Apply serves tests and tools.
func (f *FSM) Apply(l *raft.Log) interface{} { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch applies committed entries in one bbolt transaction together with the new applied
// index. Entries at or below the stored applied index were applied before a restart and are
// skipped. It panics when an entry cannot be decoded or the file cannot be written.
func (f *FSM) ApplyBatch(logs []*raft.Log) []interface{} {
	out := make([]interface{}, len(logs))
	var last uint64
	var modified map[string]uint64
	collect := f.sinkAttached()
	var published []*Event
	err := f.db.Update(func(tx *bolt.Tx) error {
		applied := readApplied(tx)
		last = applied
		ac := &applyCtx{tx: tx, collect: collect}
		ac.sum, _ = readChecksum(tx)
		before := ac.sum
		for i, l := range logs {
			if l.Index <= applied {
				continue
			}
			last = l.Index
			if l.Type != raft.LogCommand {
				continue
			}
			res, err := f.dispatch(ac, l)
			if err != nil {
				return err
			}
			out[i] = res
		}
		if last == applied {
			return nil
		}
		if err := ac.writeModified(); err != nil {
			return err
		}
		if ac.sum != before {
			if err := writeChecksum(tx, ac.sum); err != nil {
				return err
			}
		}
		modified, published = ac.modified, ac.published
		return writeApplied(tx, last)
	})
	if err != nil {
		f.logger.Error("cannot apply batch; stopping rather than diverging", "error", err)
		panic(fmt.Errorf("fsm: apply batch ending at %d: %w", logs[len(logs)-1].Index, err))
	}
	for k, idx := range modified {
		f.modified[k].Store(idx)
	}
	if last > f.applied.Load() {
		f.publish(collect, last, published)
	}
	return out
}

func (f *FSM) dispatch(ac *applyCtx, l *raft.Log) (*Result, error) {
	cmd, now, err := Decode(l.Data)
	if errors.Is(err, ErrUnsupportedVersion) {
		panic(fmt.Errorf("fsm: entry %d: %w; a newer release proposed it: upgrade this node (README, Upgrades)", l.Index, err))
	}
	if err != nil {
		panic(fmt.Errorf("fsm: entry %d: %w", l.Index, err))
	}
	h, ok := f.handlers[cmd.Type()]
	if !ok {
		panic(fmt.Errorf("fsm: entry %d: no handler for %s", l.Index, cmd.Type()))
	}
	ac.index, ac.now, ac.sub = l.Index, now, 0
	res, err := h(ac, cmd)
	if err != nil {
		return nil, err
	}
	if err := pruneEvents(ac, f.cfg.Retention); err != nil {
		return nil, fmt.Errorf("prune events: %w", err)
	}
	return res, nil
}

// View runs fn in a read-only transaction of the current state.
func (f *FSM) View(fn func(r *Reader) error) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.db.View(func(tx *bolt.Tx) error { return fn(&Reader{tx: tx}) })
}

func (f *FSM) applyNoop(ac *applyCtx, _ *Noop) (*Result, error) { return okResult(ac), nil }
