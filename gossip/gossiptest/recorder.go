// Package gossiptest holds test helpers for code that joins the gossip pool.
package gossiptest

import (
	"sync"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/gossip"
)

// Recorder is a gossip.Handler that remembers what it last heard of each member.
type Recorder struct {
	mu    sync.Mutex
	alive map[string]bool
	meta  map[string]api.GossipMeta
}

var _ gossip.Handler = (*Recorder)(nil)

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{alive: map[string]bool{}, meta: map[string]api.GossipMeta{}}
}

func (r *Recorder) set(m gossip.Member, alive bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.alive[m.Name], r.meta[m.Name] = alive, m.Meta
}

// MemberJoin implements gossip.Handler.
func (r *Recorder) MemberJoin(m gossip.Member) { r.set(m, true) }

// MemberLeave implements gossip.Handler.
func (r *Recorder) MemberLeave(m gossip.Member) { r.set(m, false) }

// MemberUpdate implements gossip.Handler.
func (r *Recorder) MemberUpdate(m gossip.Member) { r.set(m, m.Alive) }

// Seen returns the member's last metadata and whether it was last heard of as alive (or, with
// alive false, as gone).
func (r *Recorder) Seen(name string, alive bool) (api.GossipMeta, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.alive[name]
	return r.meta[name], ok && a == alive
}
