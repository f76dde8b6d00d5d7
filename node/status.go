package node

import (
	"context"

	"github.com/cellmap/cellmap/api"
)

// Status reports the node's raft state, the configuration and the state checksum.
func (n *Node) Status(ctx context.Context) (*api.ClusterStatus, error) {
	addr, id := n.raft.LeaderWithID()
	st := &api.ClusterStatus{
		NodeID: n.cfg.NodeID, State: n.raft.State().String(), Term: n.raft.CurrentTerm(),
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
	idx, sum, err := n.fsm.Checksum()
	if err != nil {
		return nil, err
	}
	st.FSMChecksum, st.FSMChecksumIdx, st.AppliedIndex = sum, idx, idx
	return st, nil
}

// Ready reports whether the node can serve: a leader is known and the local state has applied
// everything this node knows to be committed.
func (n *Node) Ready() (bool, string) {
	addr, _ := n.raft.LeaderWithID()
	if addr == "" {
		return false, "no leader known"
	}
	if applied, commit := n.fsm.AppliedIndex(), n.raft.CommitIndex(); applied+1 < commit {
		return false, "state is catching up"
	}
	return true, "ok"
}
