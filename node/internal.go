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

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/requestid"
	"github.com/cellmap/cellmap/transport"
)

// Paths of the node-to-node protocol, served on every node's HTTP listener.
const (
	PathJoin   = "/internal/join"
	PathRemove = "/internal/remove"
	// PathRestore takes a backup a follower verified and forwards to the leader (restore.go).
	PathRestore = "/internal/restore"
	// PathAutopilot answers the leader's autopilot state (autopilot.go).
	PathAutopilot = "/internal/autopilot"
)

// maxAnswer caps a peer's answer to a membership request.
const maxAnswer = 1 << 20

func writeError(w http.ResponseWriter, code, msg string) {
	writeInternal(w, api.Status(code), api.Error{Detail: api.ErrorDetail{Code: code, Message: msg}})
}

// InternalHandler serves the node-to-node membership requests (joins and removals). Mount it
// on the node's HTTP listener; it is not for clients. Forwarded writes and read indexes travel
// on the raft port instead (rpc.go).
func (n *Node) InternalHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathJoin, n.serveJoin)
	mux.HandleFunc("POST "+PathRemove, n.serveRemove)
	mux.HandleFunc("POST "+PathRestore, n.serveRestore)
	mux.HandleFunc("GET "+PathAutopilot, n.serveAutopilot)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, api.CodeNoSuchEndpoint, "no such internal endpoint")
	})
	return mux
}

func writeInternal(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// internalError answers a node error with its code, which a forwarding peer understands.
func internalError(w http.ResponseWriter, err error) {
	code := Code(err)
	if code == "" {
		code = api.CodeInternal
	}
	writeError(w, code, err.Error())
}

// errorFromWire turns a peer's error answer back into the node error it stands for.
func errorFromWire(status int, body []byte) error {
	var e api.Error
	json.Unmarshal(body, &e)
	if err, ok := peerError(e.Detail.Code, e.Detail.Message); ok {
		return err
	}
	return fmt.Errorf("node: peer answered %d: %s", status, bytes.TrimSpace(body))
}

func (n *Node) serveJoin(w http.ResponseWriter, r *http.Request) {
	var req api.JoinRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		internalError(w, fmt.Errorf("%w: %v", ErrInvalid, err))
		return
	}
	if err := n.Join(r.Context(), req); err != nil {
		internalError(w, err)
		return
	}
	writeInternal(w, http.StatusOK, map[string]string{"node_id": req.NodeID})
}

func (n *Node) serveRemove(w http.ResponseWriter, r *http.Request) {
	var req api.JoinRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		internalError(w, fmt.Errorf("%w: %v", ErrInvalid, err))
		return
	}
	if err := n.Remove(r.Context(), req.NodeID); err != nil {
		internalError(w, err)
		return
	}
	writeInternal(w, http.StatusOK, map[string]string{"node_id": req.NodeID})
}

// postLeader sends a request to the leader. A failure to connect is definite (ErrNoLeader):
// nothing was sent. A failure after sending is ErrOutcomeUnknown when unknownOnSent is set.
func (n *Node) postLeader(ctx context.Context, path string, body []byte, unknownOnSent bool) ([]byte, error) {
	return n.postLeaderBody(ctx, path, bytes.NewReader(body), unknownOnSent)
}

// postLeaderBody is postLeader with a streamed body.
func (n *Node) postLeaderBody(ctx context.Context, path string, body io.Reader, unknownOnSent bool) ([]byte, error) {
	return n.requestLeader(ctx, http.MethodPost, path, body, unknownOnSent)
}

// requestLeader sends a request to the leader's node-to-node endpoint path (see postLeader).
func (n *Node) requestLeader(ctx context.Context, method, path string, body io.Reader, unknownOnSent bool) ([]byte, error) {
	addr, err := n.leaderHTTP(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, n.cfg.peerURL(addr)+path, body)
	if err != nil {
		return nil, err
	}
	n.authorize(req)
	requestid.Set(ctx, req.Header) // the leader's log lines of this request carry its id
	resp, err := n.client.Do(req)
	if err != nil {
		var op *net.OpError
		if (errors.As(err, &op) && op.Op == "dial") || errors.Is(err, transport.ErrHandshake) {
			if raftAddr, _ := n.raft.LeaderWithID(); raftAddr != "" {
				n.forgetPeer(string(raftAddr))
			}
			return nil, fmt.Errorf("%w: %v", ErrNoLeader, err)
		}
		if unknownOnSent {
			return nil, fmt.Errorf("%w: forwarding to %s: %v", ErrOutcomeUnknown, addr, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrNoLeader, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil && unknownOnSent {
		return nil, fmt.Errorf("%w: reading answer of %s: %v", ErrOutcomeUnknown, addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errorFromWire(resp.StatusCode, out)
	}
	return out, err
}

// authorize adds this node's admin token to a node-to-node request (when it has one).
func (n *Node) authorize(req *http.Request) {
	if n.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+n.cfg.Token)
	}
}
