package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/transport"
)

// leaderLoop follows leadership changes: on gaining it, commit a no-op of the new term (reads
// wait for it) and start the leader duties; on losing it, stop them.
func (n *Node) leaderLoop() {
	defer n.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	for {
		select {
		case isLeader := <-n.notifyCh:
			cancel()
			n.ready.Broadcast()
			ctx, cancel = context.WithCancel(context.Background())
			if isLeader {
				go n.establishLeadership(ctx)
			}
		case <-n.done:
			cancel()
			return
		}
	}
}

func (n *Node) establishLeadership(ctx context.Context) {
	term := n.raft.CurrentTerm()
	for ctx.Err() == nil {
		_, err := n.applyLocal(ctx, fsm.Encode(&fsm.Noop{}, time.Now().UTC()))
		if err == nil {
			break
		}
		if errors.Is(err, ErrNotLeader) {
			return
		}
		n.logger.Warn("committing the leader's no-op failed; retrying", "error", err)
		if n.backoff(ctx) != nil {
			return
		}
	}
	if ctx.Err() != nil || n.raft.CurrentTerm() != term {
		return
	}
	n.readyTerm.Store(term)
	n.ready.Broadcast()
	n.logger.Info("leading", "term", term)
	for _, duty := range n.cfg.LeaderDuties {
		go duty(ctx)
	}
}

// leaderHTTP returns the HTTP address of the leader, asking the leader's raft port once per
// leader address.
func (n *Node) leaderHTTP(ctx context.Context) (string, error) {
	addr, id := n.raft.LeaderWithID()
	if addr == "" {
		return "", ErrNoLeader
	}
	if string(id) == n.cfg.NodeID {
		return n.cfg.HTTPAddr, nil
	}
	return n.peerHTTP(ctx, string(addr))
}

func (n *Node) peerHTTP(ctx context.Context, raftAddr string) (string, error) {
	n.metaMu.Lock()
	m, ok := n.metaCache[raftAddr]
	n.metaMu.Unlock()
	if ok {
		return m.HTTPAddr, nil
	}
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	m, err := transport.QueryMeta(qctx, raftAddr)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoLeader, err)
	}
	n.metaMu.Lock()
	n.metaCache[raftAddr] = m
	n.metaMu.Unlock()
	return m.HTTPAddr, nil
}

// forgetPeer drops a cached address after a failure to reach it.
func (n *Node) forgetPeer(raftAddr string) {
	n.metaMu.Lock()
	delete(n.metaCache, raftAddr)
	n.metaMu.Unlock()
}
