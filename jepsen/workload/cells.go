package workload

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/jepsen/history"
	"github.com/cellmap/cellmap/jepsen/nemesis"
)

// Cells operation names (the listing is FList, as in the set workload).
const (
	FCreate = "create"
	FDelete = "delete"
)

// Names of the cells workload and of its nemesis.
const (
	CellsName    = "cells"
	ConductorCut = "conductor-cut"
)

// CellSpec is one cell of the cells workload: its conductor runs on a host (network
// namespace) called Name.
type CellSpec struct {
	Name, UUID string
	// Hosts is the conductor's --hosts (compute hosts with their capacity).
	Hosts string
	// Flavor fits this cell's hosts only, so a server created with it lands in this cell (the
	// conductor cut creates servers with it when it knows too few of the cell to delete).
	// They are created in the last project (FlavorBig's) when LastProject is set, else in the
	// first.
	Flavor      string
	LastProject bool
}

// The flavors: every project but the last uses FlavorSmall, which fits both cells equally
// (so its servers spread over both: both cells have as many vCPUs, which bound it); the last
// uses FlavorBig, whose disk only cell2's hosts have, so that project lives in cell2 alone
// and can still create servers while cell1 is cut. FlavorCell1 needs more RAM than cell2's
// hosts have: it lands in cell1 only (the first project, whose servers are in both cells).
const (
	FlavorSmall = "jepsen-small"
	FlavorBig   = "jepsen-big"
	FlavorCell1 = "jepsen-cell1"
)

// flavors are the flavors Prepare creates.
func flavors() []api.Flavor {
	return []api.Flavor{
		{ID: FlavorSmall, Name: FlavorSmall, VCPUs: 1, RAMMB: 64, DiskGB: 0},
		{ID: FlavorBig, Name: FlavorBig, VCPUs: 1, RAMMB: 64, DiskGB: 500},
		{ID: FlavorCell1, Name: FlavorCell1, VCPUs: 1, RAMMB: 20000000, DiskGB: 0},
	}
}

// CellSpecs returns the two cells, with fixed uuids.
func CellSpecs() []CellSpec {
	return []CellSpec{
		{Name: "cell1", UUID: "c0000001-0000-4000-8000-00000000ce11", Hosts: "c1h1:100000:1000000000:100,c1h2:100000:1000000000:100",
			Flavor: FlavorCell1},
		{Name: "cell2", UUID: "c0000002-0000-4000-8000-00000000ce12", Hosts: "c2h1:100000:10000000:100000000,c2h2:100000:10000000:100000000",
			Flavor: FlavorBig, LastProject: true},
	}
}

// Conductor ports (on each conductor host's own address).
const (
	conductorHTTPPort   = 8490
	conductorGossipPort = 8492
)

// CellsConfig shapes the cells workload.
type CellsConfig struct {
	// Projects is the number of projects (2-3); the last one uses FlavorBig.
	Projects int
	// Creators, Deleters and Listers are the concurrent clients of each kind; each makes one
	// operation per its period (and per permit of the shared limiter).
	Creators, Deleters, Listers         int
	CreateEvery, DeleteEvery, ListEvery time.Duration
	// MaxLive: creators pause while the latest listing holds this many servers (keeps
	// listings far below the API's page limit and the history small).
	MaxLive int
	// Client timeouts. A listing waits for every up cell up to cellmapd's --list-timeout
	// (3 s), so ListTimeout must be longer.
	CreateTimeout, DeleteTimeout, ListTimeout time.Duration
	// SetupTimeout bounds Prepare; UpTimeout the wait for both cells up before the final
	// listing; FinalAttempts the final listing's retries.
	SetupTimeout, UpTimeout time.Duration
	FinalAttempts           int
}

// DefaultCellsConfig returns the CI settings.
func DefaultCellsConfig() CellsConfig {
	return CellsConfig{Projects: 3, Creators: 2, Deleters: 2, Listers: 2,
		CreateEvery: 300 * time.Millisecond, DeleteEvery: 400 * time.Millisecond, ListEvery: 400 * time.Millisecond,
		MaxLive: 120, CreateTimeout: 3 * time.Second, DeleteTimeout: 2 * time.Second, ListTimeout: 8 * time.Second,
		SetupTimeout: 90 * time.Second, UpTimeout: 20 * time.Second, FinalAttempts: 20}
}

// Validate checks the configuration.
func (c CellsConfig) Validate() error {
	if c.Projects < 1 || c.Creators < 0 || c.Deleters < 0 || c.Listers < 1 || c.CreateEvery <= 0 || c.DeleteEvery <= 0 ||
		c.ListEvery <= 0 || c.MaxLive < 1 || c.CreateTimeout <= 0 || c.DeleteTimeout <= 0 || c.ListTimeout <= 0 ||
		c.SetupTimeout <= 0 || c.UpTimeout <= 0 || c.FinalAttempts < 1 {
		return errors.New("workload: bad cells config")
	}
	return nil
}

// Cells is the cells data plane workload: clients create servers (unique names, a few
// projects), delete servers seen in listings and list all tenants' servers without paging,
// while the conductor-cut nemesis cuts one cell's conductor off. Its checker (check "cells")
// judges the listings: nothing acknowledged missing, minimal UNKNOWN records for a cut cell,
// deletes there refused with 503 cell_down and nothing changed.
type Cells struct {
	cfg CellsConfig

	mu   sync.Mutex
	last []history.ListedServer // the latest successful listing
	seen bool
	// settled are the servers no client is to delete (again): deleted, answered not_found,
	// deleted with an unknown outcome (never retried, so the server may stay or go; see the
	// checker), or being deleted by a client (a deleter, or a conductor cut that took them).
	settled map[string]bool
	// env is what the workload runs against now (set by Prepare, then by each Run): the
	// conductor cut makes its own operations through it.
	env *Env
	// named numbers the servers the conductor cut creates.
	named int
}

// NewCells returns the workload.
func NewCells(cfg CellsConfig) *Cells { return &Cells{cfg: cfg, settled: map[string]bool{}} }

// Name implements Workload.
func (c *Cells) Name() string { return CellsName }

// Nemeses implements NemesisProvider: the conductor cut.
func (c *Cells) Nemeses() []nemesis.Nemesis {
	return []nemesis.Nemesis{conductorCut{t: defaultCutTiming(), w: c}}
}

// CellsProject is the i-th project (0-based) of the cells workload.
func CellsProject(i int) string { return fmt.Sprintf("jepsen-cells-p%d", i+1) }

// Prepare implements Preparer: start both conductors on hosts of their own, map cell0, the
// flavors and both cells, wait until every node sees both cells up, and discover the hosts.
func (c *Cells) Prepare(ctx context.Context, env *Env) error {
	if err := c.cfg.Validate(); err != nil {
		return err
	}
	if env.Hosts == nil {
		return errors.New("workload: the cells workload needs hosts for its conductors")
	}
	c.setEnv(env)
	bin, err := env.Hosts.Binary(ctx, "cellconductor") // a build has a bound of its own
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.SetupTimeout)
	defer cancel()
	addrs := map[string]string{}
	for _, cell := range CellSpecs() {
		ip, err := env.Hosts.AddHost(ctx, cell.Name)
		if err != nil {
			return err
		}
		addrs[cell.Name] = net.JoinHostPort(ip, strconv.Itoa(conductorHTTPPort))
		argv := []string{bin, "--cell-uuid", cell.UUID, "--data-dir", env.Hosts.DataDir(cell.Name),
			"--http-addr", addrs[cell.Name], "--gossip-addr", net.JoinHostPort(ip, strconv.Itoa(conductorGossipPort)),
			"--join", strings.Join(env.Hosts.GossipAddrs(), ","), "--gossip-profile", "test",
			"--hosts", cell.Hosts, "--name", cell.Name, "--log-level", "info"}
		sec, err := env.Hosts.CellArgs(cell.UUID, ip)
		if err != nil {
			return err
		}
		if err := env.Hosts.Start(cell.Name, append(argv, sec...)); err != nil {
			return err
		}
	}
	steps := []struct {
		name string
		fn   func(ctx context.Context, cl *client.Client) error
	}{
		{"map cell0", func(ctx context.Context, cl *client.Client) error {
			_, _, err := cl.MapCell0(ctx, "cellmap://replicated-state/cell0")
			return err
		}},
		{"flavors", func(ctx context.Context, cl *client.Client) error {
			for _, f := range flavors() {
				if _, err := cl.CreateFlavor(ctx, f); err != nil && !exists(err) {
					return err
				}
			}
			return nil
		}},
		{"cells", func(ctx context.Context, cl *client.Client) error {
			have, err := cl.Cells(ctx, false)
			if err != nil {
				return err
			}
			for _, cell := range CellSpecs() {
				if cellOf(have, cell.UUID) != nil {
					continue
				}
				if _, err := cl.CreateCell(ctx, api.CellCreate{UUID: cell.UUID, Name: cell.Name,
					TransportURL: "https://" + addrs[cell.Name] + "/", DatabaseConnection: "bbolt:///" + env.Hosts.DataDir(cell.Name)}); err != nil && !exists(err) {
					return err
				}
			}
			return nil
		}},
		{"both cells up on every node", func(ctx context.Context, _ *client.Client) error {
			for _, cell := range CellSpecs() {
				if st := CellStatuses(ctx, env.Nodes, env.Client, cell.UUID); !allAre(st, "up") {
					return fmt.Errorf("%s: %s", cell.Name, describeStatuses(st))
				}
			}
			return nil
		}},
		{"discover hosts", func(ctx context.Context, cl *client.Client) error {
			_, err := cl.DiscoverHosts(ctx, api.DiscoverHosts{})
			return err
		}},
	}
	for _, s := range steps {
		if err := retry(ctx, env, s.fn); err != nil {
			return fmt.Errorf("workload: cells setup: %s: %w", s.name, err)
		}
	}
	return nil
}

// exists reports an "already there" answer of an idempotent setup step.
func exists(err error) bool {
	code := client.CodeOf(err)
	return code == api.CodeAlreadyExists || code == api.CodeDuplicateURL || code == api.CodeHostMappingExists
}

func cellOf(cells []api.Cell, uuid string) *api.Cell {
	for i := range cells {
		if cells[i].UUID == uuid {
			return &cells[i]
		}
	}
	return nil
}

// retry runs fn against the nodes in turn until it succeeds (every 500 ms, until ctx ends).
func retry(ctx context.Context, env *Env, fn func(ctx context.Context, cl *client.Client) error) error {
	var last error
	for i := 0; i < 10000; i++ {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		last = fn(actx, env.Client(env.Nodes[i%len(env.Nodes)]))
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
		case <-time.After(500 * time.Millisecond):
		}
	}
	return last
}

// CellStatuses asks every node (in parallel, from its own gossip view) for the health of the
// cell: "up", "down", "unknown", or "error: ..." when the node did not answer.
func CellStatuses(ctx context.Context, nodes []string, cl func(string) *client.Client, uuid string) map[string]string {
	out := make(map[string]string, len(nodes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, id := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			qctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			cells, err := cl(id).Cells(qctx, false, client.Stale(0))
			st := ""
			switch c := cellOf(cells, uuid); {
			case err != nil:
				st = "error: " + orMessage(client.CodeOf(err), err)
			case c == nil:
				st = "unmapped"
			case c.Health == nil:
				st = "no health"
			default:
				st = c.Health.Status
			}
			mu.Lock()
			out[id] = st
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func allAre(st map[string]string, want string) bool {
	if len(st) == 0 {
		return false
	}
	for _, s := range st {
		if s != want {
			return false
		}
	}
	return true
}

func describeStatuses(st map[string]string) string {
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(st)) {
		parts = append(parts, id+" "+st[id])
	}
	return strings.Join(parts, ", ")
}

// Run implements Workload.
func (c *Cells) Run(ctx context.Context, env *Env) error {
	if err := c.cfg.Validate(); err != nil {
		return err
	}
	c.setEnv(env)
	var wg sync.WaitGroup
	start := func(i int, fn func(ctx context.Context, env *Env, w int, rng *rand.Rand)) {
		rng := rand.New(rand.NewPCG(env.Seed^0x63656c6c73, uint64(env.Episode)<<20|uint64(i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(ctx, env, i, rng)
		}()
	}
	n := 0
	for i := 0; i < c.cfg.Listers; i++ {
		start(n, c.lister)
		n++
	}
	for i := 0; i < c.cfg.Creators; i++ {
		start(n, c.creator)
		n++
	}
	for i := 0; i < c.cfg.Deleters; i++ {
		start(n, c.deleter)
		n++
	}
	wg.Wait()
	return nil
}

// tick waits for the worker's period and a permit of the shared limiter.
func tick(ctx context.Context, env *Env, every time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(every):
	}
	return env.Limiter.Wait(ctx)
}

func (c *Cells) creator(ctx context.Context, env *Env, w int, rng *rand.Rand) {
	process := env.Rec.NewProcess()
	for n := 1; ; n++ {
		if !tick(ctx, env, c.cfg.CreateEvery) {
			return
		}
		c.mu.Lock()
		full := !c.seen || len(c.last) >= c.cfg.MaxLive
		c.mu.Unlock()
		if full {
			continue
		}
		p := rng.IntN(c.cfg.Projects)
		flavor := FlavorSmall
		if p == c.cfg.Projects-1 && c.cfg.Projects > 1 {
			flavor = FlavorBig
		}
		name := fmt.Sprintf("jc-s%d-e%d-w%d-%d", env.Seed, env.Episode, w, n)
		if _, kind := c.create(env, process, env.Nodes[(w+n)%len(env.Nodes)], p, flavor, name); kind == history.KindInfo {
			process = env.Rec.NewProcess()
		}
	}
}

func (c *Cells) deleter(ctx context.Context, env *Env, w int, rng *rand.Rand) {
	process := env.Rec.NewProcess()
	for n := 1; ; n++ {
		if !tick(ctx, env, c.cfg.DeleteEvery) {
			return
		}
		c.mu.Lock()
		var cands []string
		for _, s := range c.last {
			if !c.settled[s.ID()] {
				cands = append(cands, s.ID())
			}
		}
		if len(cands) < 10 { // keep some servers around for the listings to show
			c.mu.Unlock()
			continue
		}
		id := cands[rng.IntN(len(cands))]
		c.settled[id] = true // no other deleter takes it while this one runs
		c.mu.Unlock()
		if kind, _ := c.delete(env, process, env.Nodes[(w+n)%len(env.Nodes)], id); kind == history.KindInfo {
			process = env.Rec.NewProcess()
		}
	}
}

func (c *Cells) lister(ctx context.Context, env *Env, w int, _ *rand.Rand) {
	process := env.Rec.NewProcess()
	for n := 1; ; n++ {
		if !tick(ctx, env, c.cfg.ListEvery) {
			return
		}
		c.list(env.OpCtx, env, process, env.Nodes[(w+n)%len(env.Nodes)], "")
	}
}

// Final implements Workload: bring both cells back (see recover), then list all servers,
// trying the nodes in turn until one listing succeeds.
func (c *Cells) Final(ctx context.Context, env *Env) error {
	c.recover(ctx, env)
	process := env.Rec.NewProcess()
	var last error
	for attempt := 0; attempt < c.cfg.FinalAttempts && ctx.Err() == nil; attempt++ {
		if last = c.list(ctx, env, process, env.Nodes[attempt%len(env.Nodes)], history.ListFinal); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("workload: final cells listing failed: %v", last)
}

// recover waits (bounded) until every node sees both cells up. The gossip pool's reconnect
// loop normally brings a conductor back within a second of the heal; a cell that is still not
// up on every node after UpTimeout/4, its conductor running, has its conductor restarted
// (which rejoins it), and that is recorded (history.PhaseCellsRecovery) for the checker's
// notes.
func (c *Cells) recover(ctx context.Context, env *Env) {
	wait := func(d time.Duration) map[string]map[string]string {
		deadline := time.Now().Add(d)
		for i := 0; ; i++ {
			notUp := map[string]map[string]string{}
			for _, cell := range CellSpecs() {
				if st := CellStatuses(ctx, env.Nodes, env.Client, cell.UUID); !allAre(st, "up") {
					notUp[cell.Name] = st
				}
			}
			if len(notUp) == 0 || ctx.Err() != nil || time.Now().After(deadline) || i > 10000 {
				return notUp
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	notUp := wait(c.cfg.UpTimeout / 4)
	if len(notUp) == 0 || env.Hosts == nil {
		return
	}
	var parts []string
	for _, cell := range CellSpecs() {
		st, ok := notUp[cell.Name]
		if !ok {
			continue
		}
		err := env.Hosts.Restart(cell.Name)
		parts = append(parts, fmt.Sprintf("%s not up on every node after the heal (%s); conductor restarted: %v", cell.Name, describeStatuses(st), errText(err)))
	}
	still := wait(c.cfg.UpTimeout)
	detail := strings.Join(parts, "; ")
	for _, name := range slices.Sorted(maps.Keys(still)) {
		detail += fmt.Sprintf("; %s still not up: %s", name, describeStatuses(still[name]))
	}
	env.Rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseCellsRecovery, Detail: detail})
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// ClassifyCells is ClassifyWrite for the data plane: a refusal because a cell is down
// (cell_down, project_cell_down) changed nothing, so it is a definite failure.
func ClassifyCells(err error) (history.Kind, string) {
	kind, code := ClassifyWrite(err)
	if c := client.CodeOf(err); c == api.CodeCellDown || c == api.CodeProjectCellDown || c == api.CodeNoValidHost {
		return history.KindFail, c
	}
	return kind, code
}
