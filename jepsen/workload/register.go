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

// Register operation names.
const (
	FRead      = "read"
	FStaleRead = "stale-read"
	FWrite     = "write"
	FCAS       = "cas"
)

// RegisterProject is the project_id of every register key.
const RegisterProject = "jepsen-register"

// RegisterConfig shapes the register workload.
type RegisterConfig struct {
	// Keys is the number of keys in use at once; Lanes the workers per key (each lane pinned
	// to a different node, so every key is read and written through several nodes).
	Keys, Lanes int
	// OpsPerKey: a key is retired after about this many operations (±10%, so keys do not
	// rotate together), InfosPerKey: or after this many unknown outcomes. Both keep the
	// per-key linearizability check small.
	OpsPerKey, InfosPerKey int
	// ReadTimeout and WriteTimeout are the client timeouts.
	ReadTimeout, WriteTimeout time.Duration
	// Weights of read, stale-read, write and cas.
	Read, Stale, Write, CAS int
}

// DefaultRegisterConfig returns the CI settings.
func DefaultRegisterConfig() RegisterConfig {
	return RegisterConfig{Keys: 3, Lanes: 3, OpsPerKey: 120, InfosPerKey: 3,
		ReadTimeout: time.Second, WriteTimeout: 1500 * time.Millisecond,
		Read: 40, Stale: 15, Write: 25, CAS: 20}
}

// Validate checks the configuration.
func (c RegisterConfig) Validate() error {
	if c.Keys < 1 || c.Lanes < 1 || c.OpsPerKey < 10 || c.InfosPerKey < 1 || c.ReadTimeout <= 0 || c.WriteTimeout <= 0 ||
		c.Read < 0 || c.Stale < 0 || c.Write < 0 || c.CAS < 0 || c.Read+c.Stale+c.Write+c.CAS == 0 {
		return errors.New("workload: bad register config")
	}
	return nil
}

// Register is the linearizable register workload: per instance mapping, reads, unconditional
// writes and compare-and-set on the revision, with values unique across the run carried in
// user_id. Stale reads of the same keys are recorded as stale-read.
type Register struct {
	cfg RegisterConfig

	mu sync.Mutex
	// env is the running episode's environment: the stale-read probe of isolate-leader makes
	// its operations through it. probes numbers the probes.
	env    *Env
	probes int
}

// NewRegister returns the workload.
func NewRegister(cfg RegisterConfig) *Register { return &Register{cfg: cfg} }

// Name implements Workload.
func (r *Register) Name() string { return "register" }

// Final implements Workload: the register needs no final reads.
func (r *Register) Final(context.Context, *Env) error { return nil }

// Run implements Workload.
func (r *Register) Run(ctx context.Context, env *Env) error {
	if err := r.cfg.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	r.env = env
	r.mu.Unlock()
	var wg sync.WaitGroup
	for k := 0; k < r.cfg.Keys; k++ {
		s := newSlot(rand.New(rand.NewPCG(env.Seed, uint64(env.Episode)<<20|uint64(k))), r.cfg)
		for lane := 0; lane < r.cfg.Lanes; lane++ {
			w := &regWorker{
				cfg: r.cfg, env: env, slot: s, node: env.Nodes[(k+lane)%len(env.Nodes)],
				rng:  rand.New(rand.NewPCG(env.Seed^0x726567, uint64(env.Episode)<<20|uint64(k*64+lane))),
				seen: map[string]uint64{}, id: fmt.Sprintf("e%dk%dl%d", env.Episode, k, lane),
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.run(ctx)
			}()
		}
	}
	wg.Wait()
	return nil
}

// slot is one key position: it hands out the current key and retires it after enough ops.
type slot struct {
	mu         sync.Mutex
	rng        *rand.Rand
	cfg        RegisterConfig
	key        string
	ops, infos int
	limit      int
}

func newSlot(rng *rand.Rand, cfg RegisterConfig) *slot {
	s := &slot{rng: rng, cfg: cfg}
	s.rotate()
	return s
}

func (s *slot) rotate() {
	s.key = uuidFrom(s.rng)
	s.ops, s.infos = 0, 0
	s.limit = s.cfg.OpsPerKey*9/10 + s.rng.IntN(s.cfg.OpsPerKey/5+1)
}

func (s *slot) current() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key
}

// done counts an operation on key and retires the key when it had enough.
func (s *slot) done(key string, kind history.Kind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key != s.key {
		return
	}
	s.ops++
	if kind == history.KindInfo {
		s.infos++
	}
	if s.ops >= s.limit || s.infos >= s.cfg.InfosPerKey {
		s.rotate()
	}
}

// regWorker is one sequential client of the register workload.
type regWorker struct {
	cfg     RegisterConfig
	env     *Env
	slot    *slot
	node    string
	rng     *rand.Rand
	seen    map[string]uint64
	id      string
	process int
	n       int
	// key is the one key of a stale-read probe's worker ("" for the workload's workers).
	key string
}

func (w *regWorker) run(ctx context.Context) {
	w.process = w.env.Rec.NewProcess()
	for ctx.Err() == nil {
		if !w.env.Limiter.Wait(ctx) {
			return
		}
		key := w.slot.current()
		kind := w.op(key, w.pick(key))
		w.slot.done(key, kind)
		if kind == history.KindInfo {
			w.process = w.env.Rec.NewProcess()
		}
	}
}

func (w *regWorker) pick(key string) string {
	c := w.cfg
	x := w.rng.IntN(c.Read + c.Stale + c.Write + c.CAS)
	switch {
	case x < c.Read:
		return FRead
	case x < c.Read+c.Stale:
		return FStaleRead
	case x < c.Read+c.Stale+c.Write:
		return FWrite
	}
	if _, ok := w.seen[key]; !ok {
		return FRead
	}
	return FCAS
}

// op runs one operation and records it; it returns the completion kind.
func (w *regWorker) op(key, f string) history.Kind {
	c := w.env.Client(w.node)
	inv := history.Event{Process: w.process, Workload: "register", F: f, Key: key, Node: w.node}
	switch f {
	case FRead, FStaleRead:
		inv = w.env.Rec.Invoke(inv)
		ctx, cancel := context.WithTimeout(w.env.OpCtx, w.cfg.ReadTimeout)
		defer cancel()
		var opts []client.ReadOption
		if f == FStaleRead {
			opts = append(opts, client.Stale(0))
		}
		m, meta, err := c.InstanceMapping(ctx, key, opts...)
		return w.completeRead(inv, m, meta, err)
	}
	w.n++
	value := fmt.Sprintf("%s-%d", w.id, w.n)
	cond := client.Condition{}
	if f == FCAS {
		cond.IfRevision = w.seen[key]
		inv.Expect = cond.IfRevision
	}
	inv.Value = value
	inv = w.env.Rec.Invoke(inv)
	ctx, cancel := context.WithTimeout(w.env.OpCtx, w.cfg.WriteTimeout)
	defer cancel()
	m, meta, err := c.PutInstanceMapping(ctx, key, api.InstanceMappingPut{ProjectID: RegisterProject, UserID: &value}, cond)
	kind, code := ClassifyWrite(err)
	done := history.Event{Value: value, Error: code, ServerIndex: meta.Index}
	// The answer shows the record as the serving node has it after the write: it is this
	// write's revision only if the value is still ours.
	delete(w.seen, key)
	if kind == history.KindOK && m != nil && m.UserID != nil && *m.UserID == value {
		done.Rev = m.Revision
		w.seen[key] = m.Revision
	}
	w.env.Rec.Complete(inv, kind, done)
	return kind
}

func (w *regWorker) completeRead(inv history.Event, m *api.InstanceMapping, meta client.Meta, err error) history.Kind {
	done := history.Event{ServerIndex: meta.Index}
	switch {
	case err == nil:
		if m.UserID != nil {
			done.Value = *m.UserID
		}
		done.Rev = m.Revision
		w.seen[inv.Key] = m.Revision
	case client.IsNotFound(err) && client.CodeOf(err) == api.CodeNotFound:
		delete(w.seen, inv.Key)
	default:
		done.Error = orMessage(client.CodeOf(err), err)
		w.env.Rec.Complete(inv, history.KindFail, done)
		return history.KindFail
	}
	w.env.Rec.Complete(inv, history.KindOK, done)
	return history.KindOK
}
