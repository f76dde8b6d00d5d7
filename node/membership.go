package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/transport"
	"github.com/hashicorp/raft"
)

// Join adds the node req names as a voter, or as a non-voter that autopilot promotes once it
// is stable when Config.Autopilot is set. The leader first asks the node at req.RaftAddr who
// it is (it must answer as req.NodeID), and refuses a join whose id or address another member
// has unless req.Replace is set, and any change that would leave fewer live voters than a
// quorum. A member already present with the same id and address is left as it is. On a
// follower the request goes to the leader.
func (n *Node) Join(ctx context.Context, req api.JoinRequest) error {
	if req.NodeID == "" || req.RaftAddr == "" {
		return fmt.Errorf("%w: node_id and raft_addr are required", ErrInvalid)
	}
	if _, _, err := net.SplitHostPort(req.RaftAddr); err != nil {
		return fmt.Errorf("%w: raft_addr %q is not host:port", ErrInvalid, req.RaftAddr)
	}
	return n.onLeader(ctx, func() error {
		if !n.IsLeader() {
			body, _ := json.Marshal(req)
			_, err := n.postLeader(ctx, PathJoin, body, true)
			return err
		}
		return n.joinLocal(ctx, req)
	})
}

func (n *Node) joinLocal(ctx context.Context, req api.JoinRequest) error {
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return classifyApplyError(err)
	}
	servers := cf.Configuration().Servers
	var clash []raft.Server // members sharing the joiner's id or address
	for _, s := range servers {
		sameID, sameAddr := string(s.ID) == req.NodeID, string(s.Address) == req.RaftAddr
		if sameID && sameAddr {
			n.logger.Info("join: already a member", "id", req.NodeID, "addr", req.RaftAddr)
			return nil
		}
		if sameID || sameAddr {
			clash = append(clash, s)
		}
	}
	if len(clash) > 0 && !req.Replace {
		return fmt.Errorf("%w: %s is at %s; join with replace to take its place", ErrMemberExists, clash[0].ID, clash[0].Address)
	}
	if err := n.checkJoiner(ctx, req.NodeID, req.RaftAddr); err != nil {
		return err
	}
	suffrage := raft.Voter
	if n.cfg.Autopilot != nil {
		suffrage = raft.Nonvoter // autopilot promotes it once it is stable
	}
	plan := joinPlan(servers, clash, raft.Server{ID: raft.ServerID(req.NodeID), Address: raft.ServerAddress(req.RaftAddr), Suffrage: suffrage})
	live := n.liveVoters(ctx, servers)
	live[raft.ServerID(req.NodeID)] = true
	if err := keepsQuorum(plan, live); err != nil {
		return err
	}
	for _, s := range clash {
		if err := n.raft.RemoveServer(s.ID, 0, n.cfg.Raft.ApplyTimeout).Error(); err != nil {
			return classifyApplyError(err)
		}
		n.logger.Info("join: removed the member replaced", "id", s.ID, "addr", s.Address)
	}
	add := n.raft.AddVoter
	if suffrage == raft.Nonvoter {
		add = n.raft.AddNonvoter
	}
	if err := add(raft.ServerID(req.NodeID), raft.ServerAddress(req.RaftAddr), 0, n.cfg.Raft.ApplyTimeout).Error(); err != nil {
		return classifyApplyError(err)
	}
	n.logger.Info("join: added "+suffrage.String(), "id", req.NodeID, "addr", req.RaftAddr)
	return nil
}

// checkJoiner proves that the node joining answers the raft port's protocol at its address,
// as the node it says it is.
func (n *Node) checkJoiner(ctx context.Context, id, raftAddr string) error {
	qctx, cancel := context.WithTimeout(ctx, memberProbeTimeout)
	defer cancel()
	m, err := transport.QueryMeta(qctx, raftAddr, n.nodeTLS(id))
	if err != nil {
		return fmt.Errorf("%w: %s at %s: %v", ErrMemberUnreachable, id, raftAddr, err)
	}
	if m.NodeID != id {
		return fmt.Errorf("%w: the node at %s is %q, not %q", ErrMemberUnreachable, raftAddr, m.NodeID, id)
	}
	return nil
}

// Remove takes a server out of the raft configuration, unless that would leave fewer live
// voters than a quorum. On a follower the request goes to the leader.
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
		return n.removeLocal(ctx, id)
	})
}

func (n *Node) removeLocal(ctx context.Context, id string) error {
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return classifyApplyError(err)
	}
	servers := cf.Configuration().Servers
	for _, s := range servers {
		if string(s.ID) != id {
			continue
		}
		if err := keepsQuorum([][]raft.Server{without(servers, s)}, n.liveVoters(ctx, servers)); err != nil {
			return err
		}
		if err := n.raft.RemoveServer(s.ID, 0, n.cfg.Raft.ApplyTimeout).Error(); err != nil {
			return classifyApplyError(err)
		}
		n.logger.Info("removed server", "id", id)
		return nil
	}
	return fmt.Errorf("%w: %s", ErrUnknownServer, id)
}

// joinCluster asks each address of Config.Join in turn for admission until one accepts. A
// refusal that asking again cannot change (member_exists, invalid) ends it with that error.
func (n *Node) joinCluster(ctx context.Context) error {
	body, _ := json.Marshal(api.JoinRequest{NodeID: n.cfg.NodeID, RaftAddr: n.cfg.advertise()})
	var last error
	for {
		for _, addr := range n.cfg.Join {
			err := n.askToJoin(ctx, addr, body)
			if err == nil {
				n.logger.Info("joined the cluster", "via", addr)
				return nil
			}
			if errors.Is(err, ErrMemberExists) || errors.Is(err, ErrInvalid) {
				return fmt.Errorf("node: join via %s refused: %w", addr, err)
			}
			last = err
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

// askToJoin posts the join request to the member at addr (an entry of Config.Join).
func (n *Node) askToJoin(ctx context.Context, addr string, body []byte) error {
	base, err := JoinURL(addr)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+PathJoin, bytes.NewReader(body))
	if err != nil {
		return err
	}
	n.authorize(req)
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	out, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	return fmt.Errorf("%s answered %s: %w", addr, resp.Status, errorFromWire(resp.StatusCode, out))
}
