package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/transport"
	"github.com/hashicorp/raft"
	autopilot "github.com/hashicorp/raft-autopilot"
)

// MemberStatus is a server's status in the gossip pool.
type MemberStatus int

// Member statuses.
const (
	// MemberUnknown: the pool has no record of the server (it never joined this node's pool,
	// or its failure was forgotten). Its health rests on what its raft port answers alone,
	// and it is never removed as dead.
	MemberUnknown MemberStatus = iota
	// MemberAlive: the server is alive (or suspected, not yet declared failed) in the pool.
	MemberAlive
	// MemberFailed: the pool declared the server failed, or it left.
	MemberFailed
)

// ServerMembers is what autopilot needs of the gossip pool (cellmapd adapts its pool).
type ServerMembers interface {
	// ServerStatus is the pool's status of the server with this raft id.
	ServerStatus(id string) MemberStatus
}

// RunAutopilot runs hashicorp/raft-autopilot whenever this node leads (Config.Autopilot; it
// returns at once without), until ctx ends or the node shuts down: it promotes non-voters
// that have been healthy for the stabilisation time and removes dead servers.
func (n *Node) RunAutopilot(ctx context.Context, members ServerMembers) {
	if n.cfg.Autopilot == nil {
		return
	}
	d := newAutopilotDelegate(n, *n.cfg.Autopilot, members)
	ap := autopilot.New(n.raft, d, autopilot.WithLogger(n.logger),
		autopilot.WithUpdateInterval(d.cfg.UpdateInterval), autopilot.WithReconcileInterval(d.cfg.ReconcileInterval))
	run := &autopilotRun{ap: ap, d: d}
	n.autopilot.Store(run)
	defer n.autopilot.CompareAndSwap(run, nil)
	n.RunAsLeader(ctx, func(ctx context.Context) {
		d.reset()
		ap.Start(ctx)
		<-ctx.Done()
		<-ap.Stop()
		d.removals.Wait()
	})
}

// autopilotRun is the autopilot of this node and its delegate.
type autopilotRun struct {
	ap *autopilot.Autopilot
	d  *autopilotDelegate
}

// autopilotDelegate is the application side of autopilot (autopilot.ApplicationIntegration).
type autopilotDelegate struct {
	n       *Node
	cfg     AutopilotConfig
	members ServerMembers
	now     func() time.Time

	mu sync.Mutex
	// failedSince is when this leader first saw each server failed in the pool; unknown
	// holds the servers the pool has no record of.
	failedSince map[raft.ServerID]time.Time
	unknown     map[raft.ServerID]bool
	// healthy is each server's health in the last state, to log its changes.
	healthy map[raft.ServerID]bool
	// removing holds the servers whose removal is under way (removals).
	removing map[raft.ServerID]bool
	removals sync.WaitGroup
}

func newAutopilotDelegate(n *Node, cfg AutopilotConfig, members ServerMembers) *autopilotDelegate {
	d := &autopilotDelegate{n: n, cfg: cfg, members: members, now: time.Now}
	d.reset()
	return d
}

// reset forgets what an earlier term of leadership saw.
func (d *autopilotDelegate) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failedSince, d.unknown = map[raft.ServerID]time.Time{}, map[raft.ServerID]bool{}
	d.healthy, d.removing = map[raft.ServerID]bool{}, map[raft.ServerID]bool{}
}

// AutopilotConfig implements autopilot.ApplicationIntegration.
func (d *autopilotDelegate) AutopilotConfig() *autopilot.Config {
	return &autopilot.Config{CleanupDeadServers: d.cfg.CleanupDeadServers, LastContactThreshold: d.cfg.LastContactThreshold,
		MaxTrailingLogs: d.cfg.MaxTrailingLogs, MinQuorum: d.cfg.MinQuorum, ServerStabilizationTime: d.cfg.ServerStabilizationTime}
}

// NotifyState logs every change of a server's health.
func (d *autopilotDelegate) NotifyState(s *autopilot.State) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, srv := range s.Servers {
		if was, ok := d.healthy[id]; !ok || was != srv.Health.Healthy {
			d.n.logger.Info("autopilot: server health", "id", id, "healthy", srv.Health.Healthy, "state", srv.State,
				"last_contact", srv.Stats.LastContact, "last_index", srv.Stats.LastIndex)
		}
		d.healthy[id] = srv.Health.Healthy
	}
}

// FetchServerStats asks every server's raft port, in parallel, for its last log entry and its
// last contact with the leader; this node answers for itself. A server that does not answer
// gets no contact ("never": unhealthy) rather than its last answer.
func (d *autopilotDelegate) FetchServerStats(ctx context.Context, servers map[raft.ServerID]*autopilot.Server) map[raft.ServerID]*autopilot.ServerStats {
	out := make(map[raft.ServerID]*autopilot.ServerStats, len(servers))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for id, srv := range servers {
		if string(id) == d.n.cfg.NodeID {
			idx, term, contact := d.n.raftProgress()
			mu.Lock() // the goroutines of the servers before this one may be writing out
			out[id] = &autopilot.ServerStats{LastIndex: idx, LastTerm: term, LastContact: time.Duration(contact)}
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &autopilot.ServerStats{LastContact: -1}
			m, err := transport.QueryMeta(ctx, string(srv.Address), d.n.nodeTLS(string(id)))
			if err == nil && m.NodeID == string(id) {
				st = &autopilot.ServerStats{LastIndex: m.LastLogIndex, LastTerm: m.LastLogTerm, LastContact: time.Duration(m.LastContactNS)}
			}
			mu.Lock()
			out[id] = st
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// KnownServers returns every server of the raft configuration with its gossip status (one the
// pool has no record of counts as alive: its raft port decides its health); it notes when
// each was first seen failed.
func (d *autopilotDelegate) KnownServers() map[raft.ServerID]*autopilot.Server {
	cf := d.n.raft.GetConfiguration()
	if cf.Error() != nil {
		return nil
	}
	_, leader := d.n.raft.LeaderWithID()
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[raft.ServerID]*autopilot.Server{}
	for _, s := range cf.Configuration().Servers {
		ms := MemberAlive
		if string(s.ID) != d.n.cfg.NodeID {
			ms = d.members.ServerStatus(string(s.ID))
		}
		d.unknown[s.ID] = ms == MemberUnknown
		status := autopilot.NodeAlive
		if ms != MemberFailed {
			delete(d.failedSince, s.ID)
		} else {
			status = autopilot.NodeFailed
			if _, ok := d.failedSince[s.ID]; !ok {
				d.failedSince[s.ID] = now
			}
		}
		// Every server may vote (the stable promoter's node type): autopilot counts potential
		// voters for its removal rules from this.
		out[s.ID] = &autopilot.Server{ID: s.ID, Name: string(s.ID), Address: s.Address, NodeStatus: status,
			RaftVersion: raft.ProtocolVersionMax, IsLeader: s.ID == leader, NodeType: autopilot.NodeVoter}
	}
	return out
}

// RemoveFailedServer removes a server autopilot found failed, once this leader has seen it
// failed in the gossip pool for DeadServerThreshold, unless it still answers on its raft port
// or its removal would leave fewer than MinQuorum voters; the removal runs in the background
// (autopilot expects this to return at once).
func (d *autopilotDelegate) RemoveFailedServer(srv *autopilot.Server) {
	d.mu.Lock()
	defer d.mu.Unlock()
	since, ok := d.failedSince[srv.ID]
	if !ok || d.removing[srv.ID] || d.now().Sub(since) < d.cfg.DeadServerThreshold {
		return
	}
	d.removing[srv.ID] = true
	d.removals.Add(1)
	go func() {
		defer d.removals.Done()
		defer func() {
			d.mu.Lock()
			delete(d.removing, srv.ID)
			d.mu.Unlock()
		}()
		d.remove(srv.ID, d.now().Sub(since))
	}()
}

// remove takes a dead server out of the configuration (with the quorum checks of Remove).
func (d *autopilotDelegate) remove(id raft.ServerID, failedFor time.Duration) {
	cf := d.n.raft.GetConfiguration()
	if cf.Error() != nil {
		return
	}
	if !removalKeepsMinQuorum(cf.Configuration().Servers, id, d.cfg.MinQuorum) {
		d.n.logger.Info("autopilot: not removing a dead server: fewer voters than the minimum quorum would be left",
			"id", id, "min_quorum", d.cfg.MinQuorum)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*d.n.cfg.Raft.ApplyTimeout)
	defer cancel()
	if d.answersOnRaftPort(ctx, cf.Configuration().Servers, id) {
		// Gossip alone is not proof: a server cut off from the pool but not from raft stays.
		d.n.logger.Warn("autopilot: not removing a server failed in the gossip pool: it answers on its raft port", "id", id)
		return
	}
	if err := d.n.removeLocal(ctx, string(id)); err != nil {
		d.n.logger.Warn("autopilot: removing a dead server failed", "id", id, "error", err)
		return
	}
	d.n.logger.Info("autopilot: removed a dead server", "id", id, "failed_for", failedFor.Round(time.Millisecond))
}

// answersOnRaftPort reports whether server id answers a metadata query on its raft address
// as itself.
func (d *autopilotDelegate) answersOnRaftPort(ctx context.Context, servers []raft.Server, id raft.ServerID) bool {
	for _, s := range servers {
		if s.ID != id {
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, memberProbeTimeout)
		defer cancel()
		m, err := transport.QueryMeta(qctx, string(s.Address), d.n.nodeTLS(string(id)))
		return err == nil && m.NodeID == string(id)
	}
	return false
}

// removalKeepsMinQuorum reports whether removing id leaves at least minQuorum voters (a
// non-voter's removal always does).
func removalKeepsMinQuorum(servers []raft.Server, id raft.ServerID, minQuorum uint) bool {
	voters, isVoter := 0, false
	for _, s := range servers {
		if s.Suffrage == raft.Voter {
			voters++
			isVoter = isVoter || s.ID == id
		}
	}
	return !isVoter || voters-1 >= int(minQuorum)
}

// AutopilotHealth returns the leader's autopilot state (asked of the leader on a follower).
func (n *Node) AutopilotHealth(ctx context.Context) (*api.AutopilotHealth, error) {
	if n.cfg.Autopilot == nil {
		return nil, ErrAutopilotDisabled
	}
	var out *api.AutopilotHealth
	err := n.onLeader(ctx, func() error {
		if n.IsLeader() {
			var err error
			out, err = n.autopilotLocal()
			return err
		}
		body, err := n.requestLeader(ctx, http.MethodGet, PathAutopilot, nil, false)
		if err != nil {
			return err
		}
		out = &api.AutopilotHealth{}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("node: bad autopilot answer from the leader: %w", err)
		}
		return nil
	})
	return out, err
}

// serveAutopilot answers the leader's autopilot state to a follower.
func (n *Node) serveAutopilot(w http.ResponseWriter, _ *http.Request) {
	h, err := n.autopilotLocal()
	if err != nil {
		internalError(w, err)
		return
	}
	writeInternal(w, http.StatusOK, h)
}

// autopilotLocal is this node's autopilot state; only the leader has one.
func (n *Node) autopilotLocal() (*api.AutopilotHealth, error) {
	if !n.IsLeader() {
		return nil, ErrNotLeader
	}
	run := n.autopilot.Load()
	if run == nil {
		return nil, ErrAutopilotDisabled
	}
	st := run.ap.GetState()
	if st == nil || st.Leader == "" {
		return nil, fmt.Errorf("%w: the leader's autopilot has no state yet", ErrNoLeader)
	}
	return run.d.health(st), nil
}
