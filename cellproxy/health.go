package cellproxy

import (
	"sort"
	"sync"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/gossip"
)

// Registry tracks cell health from the gossip pool: a cell is up while at least one of its
// conductors is alive and has not failed a request within the cooldown. It implements
// gossip.Handler.
type Registry struct {
	cooldown time.Duration
	now      func() time.Time

	mu    sync.Mutex
	cells map[string]*cellState
}

type cellState struct {
	conductors map[string]*conductorState // by member name
	up         bool
	since      time.Time
}

type conductorState struct {
	name        string
	addr        string
	alive       bool
	failedUntil time.Time
}

var _ gossip.Handler = (*Registry)(nil)

// NewRegistry returns an empty registry; now is time.Now outside tests.
func NewRegistry(cooldown time.Duration, now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{cooldown: cooldown, now: now, cells: map[string]*cellState{}}
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
	cs := r.cells[m.Meta.CellUUID]
	if cs == nil {
		cs = &cellState{conductors: map[string]*conductorState{}}
		r.cells[m.Meta.CellUUID] = cs
	}
	c := cs.conductors[m.Name]
	if c == nil {
		c = &conductorState{name: m.Name}
		cs.conductors[m.Name] = c
	}
	c.addr, c.alive = m.Meta.HTTPAddr, alive
	if alive {
		c.failedUntil = time.Time{}
	}
	r.refresh(cs)
}

// refresh recomputes a cell's state and stamps the time of a change.
func (r *Registry) refresh(cs *cellState) {
	now := r.now()
	up := false
	for _, c := range cs.conductors {
		if c.alive && !now.Before(c.failedUntil) {
			up = true
			break
		}
	}
	if up != cs.up || cs.since.IsZero() {
		cs.up, cs.since = up, now
	}
}

// Up reports whether a cell can be asked now. cell0 lives in the replicated state and is always up.
func (r *Registry) Up(cellUUID string) bool {
	if cellUUID == fsm.Cell0UUID {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cs := r.cells[cellUUID]
	if cs == nil {
		return false
	}
	r.refresh(cs)
	return cs.up
}

// Conductor returns the HTTP address of a usable conductor of the cell.
func (r *Registry) Conductor(cellUUID string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cs := r.cells[cellUUID]
	if cs == nil {
		return "", false
	}
	now := r.now()
	var best *conductorState
	for _, c := range cs.conductors {
		if c.alive && !now.Before(c.failedUntil) && (best == nil || c.name < best.name) {
			best = c
		}
	}
	if best == nil {
		return "", false
	}
	return best.addr, true
}

// MarkFailed makes a conductor count as down for the cooldown after a request to it failed.
func (r *Registry) MarkFailed(cellUUID, addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cs := r.cells[cellUUID]
	if cs == nil {
		return
	}
	for _, c := range cs.conductors {
		if c.addr == addr {
			c.failedUntil = r.now().Add(r.cooldown)
		}
	}
	r.refresh(cs)
}

// CellHealth reports a cell's health for the API.
func (r *Registry) CellHealth(cellUUID string) *api.CellHealth {
	if cellUUID == fsm.Cell0UUID {
		return &api.CellHealth{Status: "up"}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cs := r.cells[cellUUID]
	if cs == nil {
		return &api.CellHealth{Status: "unknown"}
	}
	r.refresh(cs)
	h := &api.CellHealth{Status: "down", Since: cs.since}
	if cs.up {
		h.Status = "up"
	}
	for _, c := range cs.conductors {
		if c.alive {
			h.Conductors++
		}
	}
	return h
}

// Conductors lists every conductor ever seen, by cell then name.
func (r *Registry) Conductors() []api.Conductor {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []api.Conductor
	for cell, cs := range r.cells {
		for _, c := range cs.conductors {
			out = append(out, api.Conductor{Name: c.name, CellUUID: cell, HTTPAddr: c.addr, Alive: c.alive})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CellUUID != out[j].CellUUID {
			return out[i].CellUUID < out[j].CellUUID
		}
		return out[i].Name < out[j].Name
	})
	return out
}
