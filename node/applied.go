package node

import (
	"context"
	"sync"
	"time"

	"github.com/cellmap/cellmap/internal/poll"
	"github.com/cellmap/cellmap/transport"
)

// WaitAppliedEverywhere returns once every server of the raft configuration has said, on its
// raft port, that its state reflects index, or once lease has passed for those that have not
// (a node out of contact for longer than the lease refuses every token until it has caught up
// again: AuthFresh). It is what makes a token revoke linearizable. It returns the ids of the
// servers that did not confirm.
func (n *Node) WaitAppliedEverywhere(ctx context.Context, index uint64, lease time.Duration) []string {
	cf := n.raft.GetConfiguration()
	if cf.Error() != nil {
		return nil
	}
	var mu sync.Mutex
	var missing []string
	var wg sync.WaitGroup
	for _, s := range cf.Configuration().Servers {
		if string(s.ID) == n.cfg.NodeID {
			_ = n.fsm.WaitApplied(ctx, index)
			continue
		}
		wg.Add(1)
		go func(id, addr string) {
			defer wg.Done()
			err := poll.Until(ctx, lease, func(ctx context.Context) bool {
				qctx, cancel := context.WithTimeout(ctx, lease)
				defer cancel()
				m, err := transport.QueryMeta(qctx, addr, n.clientTLS)
				return err == nil && m.AppliedIndex >= index
			})
			if err != nil {
				mu.Lock()
				missing = append(missing, id)
				mu.Unlock()
			}
		}(string(s.ID), string(s.Address))
	}
	wg.Wait()
	return missing
}
