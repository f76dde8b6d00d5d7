package node

import (
	"context"
	"time"
)

// Server is a member of the raft configuration.
type Server struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	Suffrage string `json:"suffrage"`
}

// Status is a node's view of the cluster.
type Status struct {
	NodeID         string        `json:"node_id"`
	State          string        `json:"state"`
	Term           uint64        `json:"term"`
	LeaderID       string        `json:"leader_id"`
	LeaderRaftAddr string        `json:"leader_raft_addr"`
	LeaderHTTPAddr string        `json:"leader_http_addr"`
	CommitIndex    uint64        `json:"commit_index"`
	AppliedIndex   uint64        `json:"applied_index"`
	LastLogIndex   uint64        `json:"last_log_index"`
	LastContact    time.Duration `json:"-"`
	LastContactMS  int64         `json:"last_contact_ms"`
	Servers        []Server      `json:"servers"`
	// Checksum digests the state at ChecksumIndex; equal on caught-up nodes.
	Checksum      string `json:"fsm_checksum"`
	ChecksumIndex uint64 `json:"fsm_checksum_index"`
}

// Status reports the node's raft state, the configuration and the state checksum.
func (n *Node) Status(ctx context.Context) (*Status, error) {
	addr, id := n.raft.LeaderWithID()
	st := &Status{
		NodeID: n.cfg.NodeID, State: n.raft.State().String(), Term: n.raft.CurrentTerm(),
		LeaderID: string(id), LeaderRaftAddr: string(addr),
		CommitIndex: n.raft.CommitIndex(), LastLogIndex: n.raft.LastIndex(),
	}
	if addr != "" {
		if h, err := n.leaderHTTP(ctx); err == nil {
			st.LeaderHTTPAddr = h
		}
	}
	if !n.IsLeader() {
		st.LastContact = n.Staleness().LastContact
		st.LastContactMS = st.LastContact.Milliseconds()
	}
	if cf := n.raft.GetConfiguration(); cf.Error() == nil {
		for _, s := range cf.Configuration().Servers {
			st.Servers = append(st.Servers, Server{ID: string(s.ID), RaftAddr: string(s.Address), Suffrage: s.Suffrage.String()})
		}
	}
	idx, sum, err := n.fsm.Checksum()
	if err != nil {
		return nil, err
	}
	st.Checksum, st.ChecksumIndex, st.AppliedIndex = sum, idx, idx
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
