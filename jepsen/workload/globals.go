package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/jepsen/history"
)

// The globals workload drives what cellmap enforces at the API tier without asking the cells
// (issue 15): each episode's project has a small instance quota and two anti-affinity server
// groups (one at most one member per host, one with max_server_per_host 2); clients create
// servers into the groups and without one, in parallel, and delete some, under the episode's
// partitions and kills. After the heal the final state is read linearizably and recorded for
// the checker (check "globals"): usage within the limit and equal to the project's live
// servers, no host holding more members of a group than its policy allows.

// GlobalsName is the workload's (and its checker's) name.
const GlobalsName = "globals"

// Globals operation names (setup, create and delete; the final read is FGlobalsFinal).
const (
	FSetup        = "setup"
	FGlobalsFinal = "final-state"
)

// GlobalsConfig shapes the globals workload.
type GlobalsConfig struct {
	// Quota is the project's instance limit.
	Quota int64
	// Creators and Deleters are the concurrent clients; each makes one operation per period
	// (and per permit of the shared limiter).
	Creators, Deleters         int
	CreateEvery, DeleteEvery   time.Duration
	CreateTimeout, ReadTimeout time.Duration
	// FinalAttempts bounds the tries of the final read: it waits for no server in BUILD and
	// no cell down (a build request whose scheduling node was killed waits for the leader's
	// rescheduler, 30-45 s), and when the final phase's time runs out it takes the state as it
	// is (Unsettled counts what it could not wait for).
	FinalAttempts int
}

// DefaultGlobalsConfig returns the CI settings: a quota of 6 against 4 compute hosts.
func DefaultGlobalsConfig() GlobalsConfig {
	return GlobalsConfig{Quota: 6, Creators: 3, Deleters: 1, CreateEvery: 150 * time.Millisecond, DeleteEvery: 600 * time.Millisecond,
		CreateTimeout: 3 * time.Second, ReadTimeout: 8 * time.Second, FinalAttempts: 120}
}

// Validate checks the configuration.
func (c GlobalsConfig) Validate() error {
	if c.Quota < 1 || c.Creators < 1 || c.Deleters < 0 || c.CreateEvery <= 0 || c.DeleteEvery <= 0 || c.CreateTimeout <= 0 ||
		c.ReadTimeout <= 0 || c.FinalAttempts < 1 {
		return errors.New("workload: bad globals config")
	}
	return nil
}

// GlobalsGroup is one server group of an episode and its placement rule.
type GlobalsGroup struct {
	ID         string `json:"id"`
	MaxPerHost int64  `json:"max_per_host"`
	// Members are the group's members that still count, as the final read saw them.
	Members []string `json:"members,omitempty"`
}

// GlobalsServer is a live server of the project in the final read.
type GlobalsServer struct {
	ID     string `json:"id"`
	Host   string `json:"host,omitempty"`
	Status string `json:"status"`
}

// GlobalsState is the final read of one episode (the Data of its FGlobalsFinal operation).
type GlobalsState struct {
	Project string          `json:"project"`
	Limit   int64           `json:"limit"`
	Usage   int64           `json:"usage"`
	Servers []GlobalsServer `json:"servers"`
	Groups  []GlobalsGroup  `json:"groups"`
	// Unsettled counts the servers still building and the cells down when the state was
	// taken without waiting any longer (their members have no host to judge).
	Unsettled int `json:"unsettled,omitempty"`
}

// Globals is the workload.
type Globals struct {
	cfg   GlobalsConfig
	cells *Cells // its Prepare starts and maps the cells (idempotent beside the cells workload)

	mu      sync.Mutex
	groups  []GlobalsGroup
	created []string // acknowledged creates of the episode, for the deleters
}

// NewGlobals returns the workload.
func NewGlobals(cfg GlobalsConfig) *Globals {
	return &Globals{cfg: cfg, cells: NewCells(DefaultCellsConfig())}
}

// Name implements Workload.
func (g *Globals) Name() string { return GlobalsName }

// GlobalsProject is the project of episode ep.
func GlobalsProject(ep int) string { return fmt.Sprintf("jepsen-globals-%d", ep) }

// Prepare implements Preparer: the two cells of the cells workload (their conductors, cell0,
// the flavors, the cells and their hosts).
func (g *Globals) Prepare(ctx context.Context, env *Env) error {
	if err := g.cfg.Validate(); err != nil {
		return err
	}
	return g.cells.Prepare(ctx, env)
}

// Run implements Workload: set the episode's quota and create its groups, then create and
// delete servers until ctx ends.
func (g *Globals) Run(ctx context.Context, env *Env) error {
	if err := g.setup(ctx, env); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for i := 0; i < g.cfg.Creators+g.cfg.Deleters; i++ {
		node := env.Nodes[i%len(env.Nodes)]
		rng := rand.New(rand.NewPCG(env.Seed^0x676c6f62, uint64(env.Episode)<<20|uint64(i)))
		create := i < g.cfg.Creators
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.client(ctx, env, node, rng, create)
		}()
	}
	wg.Wait()
	return nil
}

// setup sets the project's limit and creates its two groups, trying the nodes in turn.
func (g *Globals) setup(ctx context.Context, env *Env) error {
	project := GlobalsProject(env.Episode)
	g.mu.Lock()
	g.groups, g.created = nil, nil
	g.mu.Unlock()
	limit := g.cfg.Quota
	steps := []func(ctx context.Context, cl *client.Client) error{
		func(ctx context.Context, cl *client.Client) error {
			_, err := cl.SetQuota(ctx, project, api.QuotaUpdate{Instances: &limit})
			return err
		},
	}
	for _, max := range []int64{1, 2} {
		steps = append(steps, func(ctx context.Context, cl *client.Client) error {
			in := api.ServerGroupCreate{Name: fmt.Sprintf("anti-%d", max), ProjectID: project, UserID: "jepsen", Policy: "anti-affinity"}
			if max > 1 {
				in.Rules = &api.ServerGroupRules{MaxServerPerHost: max}
			}
			sg, err := cl.CreateServerGroup(ctx, in)
			if err == nil {
				g.mu.Lock()
				g.groups = append(g.groups, GlobalsGroup{ID: sg.ID, MaxPerHost: max})
				g.mu.Unlock()
			}
			return err
		})
	}
	process := env.Rec.NewProcess()
	for i, step := range steps {
		var err error
		for attempt := 0; ctx.Err() == nil; attempt++ {
			node := env.Nodes[attempt%len(env.Nodes)]
			inv := env.Rec.Invoke(history.Event{Process: process, Workload: GlobalsName, F: FSetup, Key: project, Node: node, Value: fmt.Sprint(i)})
			octx, cancel := context.WithTimeout(env.OpCtx, g.cfg.CreateTimeout)
			err = step(octx, env.Client(node))
			cancel()
			kind, code := ClassifyWrite(err)
			env.Rec.Complete(inv, kind, history.Event{Error: code})
			if kind == history.KindInfo {
				process = env.Rec.NewProcess()
			}
			if err == nil {
				break
			}
			// A group create of unknown outcome may exist: another is made, and only those
			// acknowledged are judged (an unacknowledged one has no members).
			if !pause(ctx, 200*time.Millisecond) {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("workload: globals setup of %s: %w", project, err)
		}
	}
	return nil
}

// client makes creates (create) or deletes until ctx ends.
func (g *Globals) client(ctx context.Context, env *Env, node string, rng *rand.Rand, create bool) {
	process := env.Rec.NewProcess()
	project := GlobalsProject(env.Episode)
	every := g.cfg.DeleteEvery
	if create {
		every = g.cfg.CreateEvery
	}
	for n := 0; tick(ctx, env, every); n++ {
		var inv history.Event
		var err error
		octx, cancel := context.WithTimeout(env.OpCtx, g.cfg.CreateTimeout)
		if create {
			group := g.pickGroup(rng)
			inv = env.Rec.Invoke(history.Event{Process: process, Workload: GlobalsName, F: FCreate, Key: project, Node: node, Value: group})
			var s *api.Server
			s, err = env.Client(node).CreateServer(octx, api.ServerCreateSpec{Name: fmt.Sprintf("g%d-%d", process, n), FlavorRef: FlavorSmall,
				ProjectID: project, UserID: "jepsen", Group: group})
			if err == nil {
				g.mu.Lock()
				g.created = append(g.created, s.ID)
				g.mu.Unlock()
				inv.Value = s.ID + " " + group
			}
		} else {
			id, ok := g.pickVictim(rng)
			if !ok {
				cancel()
				continue
			}
			inv = env.Rec.Invoke(history.Event{Process: process, Workload: GlobalsName, F: FDelete, Key: project, Node: node, Value: id})
			err = env.Client(node).DeleteServer(octx, id)
		}
		cancel()
		kind, code := classifyGlobals(err)
		env.Rec.Complete(inv, kind, history.Event{Value: inv.Value, Error: code})
		if kind == history.KindInfo {
			process = env.Rec.NewProcess()
		}
	}
}

// pickGroup chooses the first group (30 %), the second (40 %) or none.
func (g *Globals) pickGroup(rng *rand.Rand) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch x := rng.IntN(10); {
	case x < 3 && len(g.groups) > 0:
		return g.groups[0].ID
	case x < 7 && len(g.groups) > 1:
		return g.groups[1].ID
	}
	return ""
}

// pickVictim takes an acknowledged create off the list (each is deleted at most once).
func (g *Globals) pickVictim(rng *rand.Rand) (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.created) == 0 {
		return "", false
	}
	i := rng.IntN(len(g.created))
	id := g.created[i]
	g.created = append(g.created[:i], g.created[i+1:]...)
	return id, true
}

// classifyGlobals is ClassifyWrite with the refusals of a create: over quota (403) and a
// cell down (503 cell_down on delete) certainly did not happen.
func classifyGlobals(err error) (history.Kind, string) {
	switch code := client.CodeOf(err); code {
	case api.CodeQuotaExceeded, api.CodeCellDown, api.CodeForbidden:
		return history.KindFail, code
	}
	return ClassifyWrite(err)
}

// Final implements Workload: read the project's state linearizably once no server is in
// BUILD and no cell is down, trying the nodes in turn, and record it.
func (g *Globals) Final(ctx context.Context, env *Env) error {
	process := env.Rec.NewProcess()
	project := GlobalsProject(env.Episode)
	g.mu.Lock()
	groups := append([]GlobalsGroup(nil), g.groups...)
	g.mu.Unlock()
	last := errors.New("no attempt made")
	for attempt := 0; attempt < g.cfg.FinalAttempts && ctx.Err() == nil; attempt++ {
		node := env.Nodes[attempt%len(env.Nodes)]
		inv := env.Rec.Invoke(history.Event{Process: process, Workload: GlobalsName, F: FGlobalsFinal, Key: project, Node: node})
		settled := attempt < g.cfg.FinalAttempts-1
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < 2*g.cfg.ReadTimeout {
			settled = false // no time left to wait: take the state as it is
		}
		rctx, cancel := context.WithTimeout(ctx, g.cfg.ReadTimeout)
		st, err := ReadGlobals(rctx, env.Client(node), project, groups, settled)
		cancel()
		if err == nil {
			data, _ := json.Marshal(st)
			env.Rec.Complete(inv, history.KindOK, history.Event{Data: data})
			return nil
		}
		last = err
		env.Rec.Complete(inv, history.KindFail, history.Event{Error: orMessage(client.CodeOf(err), err)})
		if !pause(ctx, time.Second) {
			break
		}
	}
	return fmt.Errorf("workload: final globals read of %s failed: %w", project, last)
}

// pause waits d unless ctx ends first (false then).
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// errNotSettled: a server is still building or a cell is down; the final read waits.
var errNotSettled = errors.New("not settled: a server is building or a cell is down")

// ReadGlobals reads a project's quota, live servers and groups (linearizable reads), and
// reads the quota again: a usage that moved meanwhile is not a final state. With settled, a
// server in BUILD or a cell down is not a final state either.
func ReadGlobals(ctx context.Context, cl *client.Client, project string, groups []GlobalsGroup, settled bool) (*GlobalsState, error) {
	q, err := cl.Quota(ctx, project)
	if err != nil {
		return nil, err
	}
	st := &GlobalsState{Project: project, Limit: q.Limits.Instances, Usage: q.Usage.Instances, Servers: []GlobalsServer{}}
	l, err := cl.Servers(ctx, api.ServerQuery{ProjectID: project})
	if err != nil {
		return nil, err
	}
	if len(l.DownCells) > 0 && settled {
		return nil, fmt.Errorf("%w: cells %v", errNotSettled, l.DownCells)
	}
	st.Unsettled = len(l.DownCells)
	for _, s := range l.Servers {
		if s.Status == api.StatusBuild {
			if settled {
				return nil, fmt.Errorf("%w: %s", errNotSettled, s.ID)
			}
			st.Unsettled++
		}
		st.Servers = append(st.Servers, GlobalsServer{ID: s.ID, Host: s.Host, Status: s.Status})
	}
	for _, grp := range groups {
		sg, err := cl.ServerGroup(ctx, grp.ID)
		if err != nil {
			return nil, err
		}
		grp.Members = sg.Members
		st.Groups = append(st.Groups, grp)
	}
	again, err := cl.Quota(ctx, project)
	if err != nil {
		return nil, err
	}
	if again.Usage != q.Usage {
		return nil, fmt.Errorf("%w: usage moved from %d to %d", errNotSettled, q.Usage.Instances, again.Usage.Instances)
	}
	return st, nil
}
