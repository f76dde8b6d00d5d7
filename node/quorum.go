package node

import (
	"context"
	"crypto/tls"
	"fmt"
	"sync"
	"time"

	"github.com/cellmap/cellmap/transport"
	"github.com/hashicorp/raft"
)

// memberProbeTimeout bounds the metadata query that tells whether a member is alive.
const memberProbeTimeout = 2 * time.Second

// liveVoters asks every voter but this node, in parallel, who it is; a voter is live when it
// answers as itself. This node is live.
func (n *Node) liveVoters(ctx context.Context, servers []raft.Server) map[raft.ServerID]bool {
	live := map[raft.ServerID]bool{raft.ServerID(n.cfg.NodeID): true}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, s := range servers {
		if s.Suffrage != raft.Voter || string(s.ID) == n.cfg.NodeID {
			continue
		}
		wg.Add(1)
		go func(s raft.Server) {
			defer wg.Done()
			qctx, cancel := context.WithTimeout(ctx, memberProbeTimeout)
			defer cancel()
			m, err := transport.QueryMeta(qctx, string(s.Address), n.nodeTLS(string(s.ID)))
			if err == nil && m.NodeID == string(s.ID) {
				mu.Lock()
				live[s.ID] = true
				mu.Unlock()
			}
		}(s)
	}
	wg.Wait()
	return live
}

// joinPlan lists the configurations a join goes through: the members it replaces removed one
// by one, then the joiner added.
func joinPlan(servers, replaced []raft.Server, joiner raft.Server) [][]raft.Server {
	var plan [][]raft.Server
	cur := servers
	for _, s := range replaced {
		cur = without(cur, s)
		plan = append(plan, cur)
	}
	return append(plan, append(append([]raft.Server(nil), cur...), joiner))
}

// without returns servers minus the one with r's id.
func without(servers []raft.Server, r raft.Server) []raft.Server {
	out := make([]raft.Server, 0, len(servers))
	for _, s := range servers {
		if s.ID != r.ID {
			out = append(out, s)
		}
	}
	return out
}

// keepsQuorum checks that in every configuration of plan the live voters are a quorum (a
// majority of the voters); an error matches ErrQuorumAtRisk.
func keepsQuorum(plan [][]raft.Server, live map[raft.ServerID]bool) error {
	for _, cfg := range plan {
		voters, up := 0, 0
		for _, s := range cfg {
			if s.Suffrage != raft.Voter {
				continue
			}
			voters++
			if live[s.ID] {
				up++
			}
		}
		if voters == 0 {
			return fmt.Errorf("%w: no voter would be left", ErrQuorumAtRisk)
		}
		if quorum := voters/2 + 1; up < quorum {
			return fmt.Errorf("%w: %d of the %d voters would be live, a quorum is %d", ErrQuorumAtRisk, up, voters, quorum)
		}
	}
	return nil
}

// nodeTLS is the client TLS of a query to node id's raft port: its own certificate of the
// cluster CA is required (nil without TLS).
func (n *Node) nodeTLS(id string) *tls.Config {
	if n.cfg.TLS == nil {
		return nil
	}
	return n.cfg.TLS.ClientConfig("", transport.RequireIdentity(transport.NodeIdentity(id)))
}
