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
	cancel := context.CancelFunc(func() {})
	for {
		select {
		case isLeader := <-n.notifyCh:
			cancel()
			n.contact.reset()
			n.ready.Broadcast()
			var ctx context.Context
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
}

// leading reports whether this node leads and has committed in its term, and which term.
func (n *Node) leading() (uint64, bool) {
	term := n.raft.CurrentTerm()
	return term, n.IsLeader() && n.readyTerm.Load() == term
}

// RunAsLeader runs duty whenever this node leads (after it committed an entry of its term),
// with a context that ends when leadership is lost; it returns when ctx ends or the node shuts
// down. Use it for work only one node may do at a time.
func (n *Node) RunAsLeader(ctx context.Context, duty func(ctx context.Context)) {
	for ctx.Err() == nil && !n.stopping() {
		wake := n.ready.C()
		if term, ok := n.leading(); ok {
			dctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); duty(dctx) }()
			n.waitLeadershipChange(ctx, term)
			cancel()
			<-done
			continue
		}
		select {
		case <-wake:
		case <-ctx.Done():
		case <-n.done:
			return
		}
	}
}

// stopping reports whether Shutdown has begun.
func (n *Node) stopping() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// waitLeadershipChange returns when this node no longer leads in term, or ctx or the node ends.
func (n *Node) waitLeadershipChange(ctx context.Context, term uint64) {
	for {
		wake := n.ready.C()
		if t, ok := n.leading(); !ok || t != term {
			return
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return
		case <-n.done:
			return
		}
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

// peerHTTP returns the HTTP address of the member at raftAddr.
func (n *Node) peerHTTP(ctx context.Context, raftAddr string) (string, error) {
	m, err := n.peerMeta(ctx, raftAddr)
	return m.HTTPAddr, err
}

// peerMeta returns what the member at raftAddr says about itself, asking its raft port once
// per address (forgetPeer drops it).
func (n *Node) peerMeta(ctx context.Context, raftAddr string) (transport.Meta, error) {
	n.metaMu.Lock()
	m, ok := n.metaCache[raftAddr]
	n.metaMu.Unlock()
	if ok {
		return m, nil
	}
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	m, err := transport.QueryMeta(qctx, raftAddr, n.clientTLS)
	if err != nil {
		return transport.Meta{}, fmt.Errorf("%w: %v", ErrNoLeader, err)
	}
	n.metaMu.Lock()
	n.metaCache[raftAddr] = m
	n.metaMu.Unlock()
	return m, nil
}

// forgetPeer drops a cached address after a failure to reach it.
func (n *Node) forgetPeer(raftAddr string) {
	n.metaMu.Lock()
	delete(n.metaCache, raftAddr)
	n.metaMu.Unlock()
}
