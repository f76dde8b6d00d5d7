package node

import (
	"context"
	"sync"
	"time"

	"github.com/cellmap/cellmap/api"
)

// peerHTTPTimeout bounds asking one member for its HTTP address in Status.
const peerHTTPTimeout = time.Second

// Status reports the node's raft state, the configuration (with each member's HTTP address)
// and the state checksum.
func (n *Node) Status(ctx context.Context) (*api.ClusterStatus, error) {
	addr, id := n.raft.LeaderWithID()
	st := &api.ClusterStatus{
		NodeID: n.cfg.NodeID, HTTPAddr: n.cfg.HTTPAddr, State: n.raft.State().String(), Term: n.raft.CurrentTerm(),
		LeaderID: string(id), LeaderRaftAddr: string(addr),
		CommitIndex: n.raft.CommitIndex(), LastLogIndex: n.raft.LastIndex(), Servers: []api.ClusterServer{},
	}
	if addr != "" {
		if h, err := n.leaderHTTP(ctx); err == nil {
			st.LeaderHTTPAddr = h
		}
	}
	st.LastContactMS = n.staleness().LastContact.Milliseconds()
	if cf := n.raft.GetConfiguration(); cf.Error() == nil {
		for _, s := range cf.Configuration().Servers {
			st.Servers = append(st.Servers, api.ClusterServer{ID: string(s.ID), RaftAddr: string(s.Address), Suffrage: s.Suffrage.String()})
		}
	}
	n.fillHTTPAddrs(ctx, st.Servers)
	idx, sum, err := n.fsm.Checksum()
	if err != nil {
		return nil, err
	}
	st.FSMChecksum, st.FSMChecksumIdx, st.AppliedIndex = sum, idx, idx
	return st, nil
}

// fillHTTPAddrs sets the HTTP address of every server, asking the raft ports of those not
// known yet in parallel (a member that does not answer within peerHTTPTimeout keeps "").
func (n *Node) fillHTTPAddrs(ctx context.Context, servers []api.ClusterServer) {
	ctx, cancel := context.WithTimeout(ctx, peerHTTPTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for i := range servers {
		s := &servers[i]
		if s.ID == n.cfg.NodeID {
			s.HTTPAddr = n.cfg.HTTPAddr
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if h, err := n.peerHTTP(ctx, s.RaftAddr); err == nil {
				s.HTTPAddr = h
			}
		}()
	}
	wg.Wait()
}

// Ready reports whether the node can serve (GET /readyz): a leader is known, and the local
// state has applied everything this node knows to be committed but at most the one entry
// being applied (MaxReadyLag).
func (n *Node) Ready() (bool, string) {
	addr, _ := n.raft.LeaderWithID()
	if addr == "" {
		return false, "no leader known"
	}
	if applied, commit := n.fsm.AppliedIndex(), n.raft.CommitIndex(); applied+MaxReadyLag < commit {
		return false, "state is catching up"
	}
	return true, "ok"
}

// MaxReadyLag is how many entries the local state may be behind the commit index this node
// knows and still be ready.
const MaxReadyLag = 1
