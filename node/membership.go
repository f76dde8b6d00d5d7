package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/hashicorp/raft"
)

// Join adds a voter. A server already present with the same id and address is left as it is;
// one with the same id or the same address is replaced. On a follower the request goes to the
// leader.
func (n *Node) Join(ctx context.Context, id, raftAddr string) error {
	if id == "" || raftAddr == "" {
		return fmt.Errorf("%w: node_id and raft_addr are required", ErrInvalid)
	}
	return n.onLeader(ctx, func() error {
		if !n.IsLeader() {
			body, _ := json.Marshal(api.JoinRequest{NodeID: id, RaftAddr: raftAddr})
			_, err := n.postLeader(ctx, PathJoin, body, true)
			return err
		}
		return n.joinLocal(id, raftAddr)
	})
}

func (n *Node) joinLocal(id, raftAddr string) error {
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return classifyApplyError(err)
	}
	for _, s := range cf.Configuration().Servers {
		sameID, sameAddr := string(s.ID) == id, string(s.Address) == raftAddr
		if sameID && sameAddr {
			n.logger.Info("join: already a member", "id", id, "addr", raftAddr)
			return nil
		}
		if sameID || sameAddr {
			if err := n.raft.RemoveServer(s.ID, 0, n.cfg.Raft.ApplyTimeout).Error(); err != nil {
				return classifyApplyError(err)
			}
		}
	}
	if err := n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, n.cfg.Raft.ApplyTimeout).Error(); err != nil {
		return classifyApplyError(err)
	}
	n.logger.Info("join: added voter", "id", id, "addr", raftAddr)
	return nil
}

// Remove takes a server out of the raft configuration. On a follower the request goes to the
// leader.
func (n *Node) Remove(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("%w: node_id is required", ErrInvalid)
	}
	return n.onLeader(ctx, func() error {
		if !n.IsLeader() {
			body, _ := json.Marshal(api.JoinRequest{NodeID: id})
			_, err := n.postLeader(ctx, PathRemove, body, true)
			return err
		}
		return n.removeLocal(id)
	})
}

func (n *Node) removeLocal(id string) error {
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return classifyApplyError(err)
	}
	for _, s := range cf.Configuration().Servers {
		if string(s.ID) == id {
			if err := n.raft.RemoveServer(s.ID, 0, n.cfg.Raft.ApplyTimeout).Error(); err != nil {
				return classifyApplyError(err)
			}
			n.logger.Info("removed server", "id", id)
			return nil
		}
	}
	return fmt.Errorf("%w: %s", ErrUnknownServer, id)
}

// joinCluster asks each address of Config.Join in turn for admission until one accepts.
func (n *Node) joinCluster(ctx context.Context) error {
	body, _ := json.Marshal(api.JoinRequest{NodeID: n.cfg.NodeID, RaftAddr: n.cfg.advertise()})
	var last error
	for {
		for _, addr := range n.cfg.Join {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+PathJoin, bytes.NewReader(body))
			if err != nil {
				return err
			}
			resp, err := n.client.Do(req)
			if err != nil {
				last = err
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				n.logger.Info("joined the cluster", "via", addr)
				return nil
			}
			last = fmt.Errorf("%s answered %s", addr, resp.Status)
		}
		n.logger.Warn("join failed; retrying", "error", last)
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("node: join %v: %w (last error: %v)", n.cfg.Join, ctx.Err(), last)
		case <-n.done:
			t.Stop()
			return ErrShutdown
		case <-t.C:
		}
	}
}
