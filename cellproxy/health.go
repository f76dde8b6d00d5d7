package cellproxy

import (
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/cellurl"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/gossip"
)

// DefaultForgetAfter is how long the registry keeps a conductor that left or failed (as the
// gossip pool forgets failed members).
const DefaultForgetAfter = 24 * time.Hour

// Directory says where a cell's conductor lives. The replicated cell mapping is the only
// authority (the Proxy implements it from the local state): gossip never decides where a
// cell's traffic goes.
type Directory interface {
	// CellAddr returns the conductor address of a mapped cell: "http(s)://host:port" or
	// "host:port"; false when the cell is not mapped or its mapping names no conductor.
	CellAddr(cellUUID string) (string, bool)
}

// Registry tracks cell health: a cell is up while a conductor alive in the gossip pool
// advertises the cell and the very address the cell's mapping names (Directory), and that
// address has not failed a request within the cooldown. Members advertising a cell from
// another address are listed as unmapped conductors and get no traffic. It implements
// gossip.Handler.
type Registry struct {
	cooldown time.Duration
	now      func() time.Time

	mu          sync.Mutex
	dir         Directory
	forgetAfter time.Duration
	members     map[string]*conductorState // by member name
	failedUntil map[string]time.Time       // conductor host:port → end of its cooldown
	cells       map[string]*cellState      // last computed health, by cell
}

type cellState struct {
	up    bool
	since time.Time
}

type conductorState struct {
	name  string
	cell  string
	addr  string // host:port it advertises
	alive bool
	since time.Time // of the last change of alive
}

var _ gossip.Handler = (*Registry)(nil)

// NewRegistry returns an empty registry; now is time.Now outside tests. Until a Directory is
// attached (cellproxy.New does it) no cell is up but cell0.
func NewRegistry(cooldown time.Duration, now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{cooldown: cooldown, now: now, forgetAfter: DefaultForgetAfter,
		members: map[string]*conductorState{}, failedUntil: map[string]time.Time{}, cells: map[string]*cellState{}}
}

// attach sets where cells live and how long departed conductors are kept.
func (r *Registry) attach(dir Directory, forgetAfter time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dir = dir
	if forgetAfter > 0 {
		r.forgetAfter = forgetAfter
	}
}

// MemberJoin records a conductor as alive.
func (r *Registry) MemberJoin(m gossip.Member) { r.observe(m, true) }

// MemberLeave records a conductor as gone (left or failed).
func (r *Registry) MemberLeave(m gossip.Member) { r.observe(m, false) }

// MemberUpdate records a conductor's new metadata.
func (r *Registry) MemberUpdate(m gossip.Member) { r.observe(m, m.Alive) }

func (r *Registry) observe(m gossip.Member, alive bool) {
	if m.Meta.Role != api.RoleConductor || m.Meta.CellUUID == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.members[m.Name]
	if c == nil {
		c = &conductorState{name: m.Name}
		r.members[m.Name] = c
	}
	if c.alive != alive || c.since.IsZero() {
		c.since = r.now()
	}
	c.cell, c.addr, c.alive = m.Meta.CellUUID, hostPort(m.Meta.HTTPAddr), alive
	if alive {
		delete(r.failedUntil, c.addr)
	}
}

// hostPort strips the scheme and path of a conductor address.
func hostPort(addr string) string {
	if _, rest, ok := strings.Cut(addr, "://"); ok {
		addr = rest
	}
	host, _, _ := strings.Cut(addr, "/")
	return host
}

// resolve returns the mapped address of a cell (outside the lock: it reads the state).
func (r *Registry) resolve(cellUUID string) (string, bool) {
	r.mu.Lock()
	dir := r.dir
	r.mu.Unlock()
	if dir == nil {
		return "", false
	}
	return dir.CellAddr(cellUUID)
}

// state computes a cell's health for its mapped address: whether it is up, and how many alive
// conductors serve that address (and whether any was ever seen). Callers hold r.mu.
func (r *Registry) state(cellUUID, addr string, mapped bool) (up bool, alive, seen int) {
	now := r.now()
	hp := hostPort(addr)
	for _, c := range r.members {
		if !mapped || c.cell != cellUUID || c.addr != hp {
			continue
		}
		seen++
		if c.alive {
			alive++
			if !now.Before(r.failedUntil[hp]) {
				up = true
			}
		}
	}
	cs := r.cells[cellUUID]
	if cs == nil {
		cs = &cellState{}
		r.cells[cellUUID] = cs
	}
	if up != cs.up || cs.since.IsZero() {
		cs.up, cs.since = up, now
	}
	return up, alive, seen
}

// Up reports whether a cell can be asked now. cell0 lives in the replicated state and is always up.
func (r *Registry) Up(cellUUID string) bool {
	if cellUUID == fsm.Cell0UUID {
		return true
	}
	_, ok := r.Conductor(cellUUID)
	return ok
}

// Conductor returns the address of the cell's conductor (from its mapping) while the cell is up.
func (r *Registry) Conductor(cellUUID string) (string, bool) {
	addr, mapped := r.resolve(cellUUID)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forget()
	if up, _, _ := r.state(cellUUID, addr, mapped); !up {
		return "", false
	}
	return addr, true
}

// MarkFailed makes a conductor count as down for the cooldown after a request to it failed.
func (r *Registry) MarkFailed(cellUUID, addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failedUntil[hostPort(addr)] = r.now().Add(r.cooldown)
	r.state(cellUUID, addr, true)
}

// CellHealth reports a cell's health for the API: unknown while no conductor of its mapped
// address was ever seen.
func (r *Registry) CellHealth(cellUUID string) *api.CellHealth {
	if cellUUID == fsm.Cell0UUID {
		return &api.CellHealth{Status: "up"}
	}
	addr, mapped := r.resolve(cellUUID)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forget()
	up, alive, seen := r.state(cellUUID, addr, mapped)
	if seen == 0 {
		return &api.CellHealth{Status: "unknown"}
	}
	h := &api.CellHealth{Status: "down", Since: r.cells[cellUUID].since, Conductors: alive}
	if up {
		h.Status = "up"
	}
	return h
}

// Conductors lists the conductors of the pool, by cell then name; Mapped says whether the
// cell's mapping names the address the conductor advertises (only those get traffic).
func (r *Registry) Conductors() []api.Conductor {
	r.mu.Lock()
	r.forget()
	out := make([]api.Conductor, 0, len(r.members))
	for _, c := range r.members {
		out = append(out, api.Conductor{Name: c.name, CellUUID: c.cell, HTTPAddr: c.addr, Alive: c.alive})
	}
	r.mu.Unlock()
	for i := range out {
		addr, ok := r.resolve(out[i].CellUUID)
		out[i].Mapped = ok && hostPort(addr) == out[i].HTTPAddr
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CellUUID != out[j].CellUUID {
			return out[i].CellUUID < out[j].CellUUID
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// forget drops conductors gone for longer than the forget delay and expired cooldowns.
// Callers hold r.mu.
func (r *Registry) forget() {
	now := r.now()
	for name, c := range r.members {
		if !c.alive && now.Sub(c.since) > r.forgetAfter {
			delete(r.members, name)
		}
	}
	for addr, until := range r.failedUntil {
		if !now.Before(until) {
			delete(r.failedUntil, addr)
		}
	}
}

// ConductorAddr is the conductor address a cell mapping names: its transport URL when that is
// an http(s) URL (the conductor's API), else a conductor://host:port database connection (as
// simple_cell_setup writes). Templates are filled with the base URLs first.
func ConductorAddr(cell *fsm.Cell, baseTransportURL, baseDatabaseConnection string) (string, bool) {
	if u, err := url.Parse(cellurl.Expand(cell.TransportURL, baseTransportURL)); err == nil &&
		(u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return u.Scheme + "://" + u.Host, true
	}
	if u, err := url.Parse(cellurl.Expand(cell.DatabaseConnection, baseDatabaseConnection)); err == nil &&
		u.Scheme == "conductor" && u.Host != "" {
		return u.Host, true
	}
	return "", false
}
