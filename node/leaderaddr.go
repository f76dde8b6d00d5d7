package node

import "context"

// LeaderHTTPAddr returns the HTTP API address of the leader as this node knows it without
// waiting: its own when it leads, else the leader's from the member cache, else "". On a
// cache miss it asks the leader's raft port in the background (one question at a time), so
// that a later call knows the answer; every answer of the API carries it (api.HeaderLeader).
func (n *Node) LeaderHTTPAddr() string {
	addr, id := n.raft.LeaderWithID()
	switch {
	case addr == "":
		return ""
	case string(id) == n.cfg.NodeID:
		return n.cfg.HTTPAddr
	}
	n.metaMu.Lock()
	m, ok := n.metaCache[string(addr)]
	n.metaMu.Unlock()
	if ok {
		return m.HTTPAddr
	}
	if n.learningLeader.CompareAndSwap(false, true) {
		go func() {
			defer n.learningLeader.Store(false)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				select {
				case <-n.done:
					cancel()
				case <-ctx.Done():
				}
			}()
			_, _ = n.peerMeta(ctx, string(addr)) // fills the cache; bounded by peerMeta's timeout
		}()
	}
	return ""
}
