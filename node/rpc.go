package node

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/requestid"
	"github.com/cellmap/cellmap/transport"
)

// Node-to-node requests on the raft port (transport.ProtoApply, transport.ProtoReadIndex).
// An answer starts with a status byte: an OK apply answer then carries the fsm.Result, an OK
// read-index answer the index, and an error answer the error's code (see codes) and message.
const (
	rpcOK byte = iota
	rpcFailed
)

func (n *Node) rpcHandlers() map[byte]transport.RPCHandler {
	return map[byte]transport.RPCHandler{transport.ProtoApply: n.rpcApply, transport.ProtoReadIndex: n.rpcReadIndex,
		transport.ProtoApplyTraced: n.rpcApplyTraced}
}

func errorAnswer(err error) []byte {
	return appendString(appendString([]byte{rpcFailed}, Code(err)), err.Error())
}

// rpcApply applies a follower's forwarded entry; only the leader does. Anyone who reaches the
// raft port can send one, so the entry is decoded and validated as the API's writes are
// before it is proposed: an entry that every replica would fail to apply never enters the log.
func (n *Node) rpcApply(ctx context.Context, entry []byte) []byte {
	if !n.IsLeader() {
		return errorAnswer(ErrNotLeader)
	}
	cmd, err := fsm.DecodeValid(entry)
	if err != nil {
		if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupportedVersion) {
			err = fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		n.logger.Warn("refused a forwarded entry", "error", err, requestid.LogKey, requestid.From(ctx))
		return errorAnswer(err)
	}
	res, err := n.propose(ctx, entry, fsm.Version(cmd))
	if err != nil {
		n.logger.Debug("a forwarded write failed", "error", err, requestid.LogKey, requestid.From(ctx))
		return errorAnswer(err)
	}
	n.logger.Debug("applied a forwarded write", "index", res.Index, requestid.LogKey, requestid.From(ctx))
	b := binary.AppendUvarint([]byte{rpcOK}, res.Index)
	b = append(b, boolByte(res.Changed))
	b = binary.AppendVarint(b, int64(res.FailedOp))
	code, msg := "", ""
	if res.Err != nil {
		code, msg = fsm.Code(res.Err), res.Err.Error()
	}
	b = appendString(appendString(b, code), msg)
	kind, rec := "", []byte(nil)
	if res.Record != nil {
		kind, rec = fsm.EncodeRecord(res.Record)
	}
	return appendString(appendString(b, kind), string(rec))
}

// rpcApplyTraced is rpcApply of a request that starts with the write's request id (an
// invalid one is dropped: it would go into log lines as is).
func (n *Node) rpcApplyTraced(ctx context.Context, req []byte) []byte {
	id, entry := readString(req)
	if entry == nil {
		return errorAnswer(fmt.Errorf("%w: truncated traced apply request", ErrInvalid))
	}
	if requestid.Valid(id) {
		ctx = requestid.With(ctx, id)
	}
	return n.rpcApply(ctx, entry)
}

// rpcReadIndex answers a follower's read-index request.
func (n *Node) rpcReadIndex(ctx context.Context, _ []byte) []byte {
	if !n.IsLeader() {
		return errorAnswer(ErrNotLeader)
	}
	idx, err := n.leaderReadIndex(ctx)
	if err != nil {
		return errorAnswer(err)
	}
	return binary.AppendUvarint([]byte{rpcOK}, idx)
}

// callLeader sends a request to the leader's raft port. A request that never reached it is a
// definite failure (ErrNoLeader, retried); one whose answer was lost is ErrOutcomeUnknown when
// unknownOnSent (writes), else ErrNoLeader (reads can be repeated).
func (n *Node) callLeader(ctx context.Context, c *transport.RPCClient, req []byte, unknownOnSent bool) ([]byte, error) {
	addr, _ := n.raft.LeaderWithID()
	if addr == "" {
		return nil, ErrNoLeader
	}
	resp, err := c.Call(ctx, string(addr), req)
	switch {
	case errors.Is(err, transport.ErrNotSent) || (err != nil && !unknownOnSent):
		return nil, fmt.Errorf("%w: %v", ErrNoLeader, err)
	case err != nil:
		return nil, fmt.Errorf("%w: forwarding to %s: %v", ErrOutcomeUnknown, addr, err)
	case len(resp) == 0:
		return nil, fmt.Errorf("%w: empty answer from %s", ErrOutcomeUnknown, addr)
	case resp[0] != rpcOK:
		return nil, decodeErrorAnswer(resp)
	}
	return resp[1:], nil
}

func decodeErrorAnswer(resp []byte) error {
	code, rest := readString(resp[1:])
	msg, _ := readString(rest)
	if err, ok := peerError(code, msg); ok {
		return err
	}
	return fmt.Errorf("node: leader failed: %s", msg)
}

// forwardApply sends an entry to the leader; with the request id of ctx when the leader
// reads it (ProtoApplyTraced).
func (n *Node) forwardApply(ctx context.Context, entry []byte) (*fsm.Result, error) {
	rpc, req := n.applyRPC, entry
	if id := requestid.From(ctx); id != "" {
		addr, leader := n.raft.LeaderWithID()
		if addr != "" && n.readsTraced(ctx, string(addr)) {
			rpc, req = n.tracedApplyRPC, append(appendString(make([]byte, 0, len(id)+len(entry)+2), id), entry...)
		}
		n.logger.Debug("forwarding a write to the leader", "leader", leader, requestid.LogKey, id)
	}
	b, err := n.callLeader(ctx, rpc, req, true)
	if err != nil {
		return nil, err
	}
	res, err := decodeResult(b)
	if err != nil {
		return nil, fmt.Errorf("%w: bad answer from the leader: %v", ErrOutcomeUnknown, err)
	}
	return res, nil
}

// readsTraced reports whether the member at raftAddr says it reads ProtoApplyTraced.
func (n *Node) readsTraced(ctx context.Context, raftAddr string) bool {
	m, err := n.peerMeta(ctx, raftAddr)
	return err == nil && m.TracedApply
}

func decodeResult(b []byte) (*fsm.Result, error) {
	res := &fsm.Result{}
	var n int
	res.Index, n = binary.Uvarint(b)
	if n <= 0 || len(b) < n+1 {
		return nil, errors.New("truncated result")
	}
	res.Changed, b = b[n] == 1, b[n+1:]
	failed, n := binary.Varint(b)
	if n <= 0 {
		return nil, errors.New("truncated result")
	}
	res.FailedOp, b = int(failed), b[n:]
	var code, msg, kind, rec string
	for _, p := range []*string{&code, &msg, &kind, &rec} {
		if *p, b = readString(b); b == nil {
			return nil, errors.New("truncated result")
		}
	}
	if code != "" || msg != "" {
		res.Err = fsm.ErrorFromCode(code, msg)
	}
	if kind != "" {
		r, err := fsm.DecodeRecord(kind, []byte(rec))
		if err != nil {
			return nil, err
		}
		res.Record = r
	}
	return res, nil
}

// fetchRemoteReadIndex asks the leader for a read index (shared by concurrent follower reads).
func (n *Node) fetchRemoteReadIndex() (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := n.callLeader(ctx, n.readIndexRPC, nil, false)
	if err != nil {
		return 0, err
	}
	idx, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, fmt.Errorf("%w: bad read index answer", ErrNoLeader)
	}
	return idx, nil
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// readString reads what appendString wrote; the rest is nil when b is truncated.
func readString(b []byte) (string, []byte) {
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < l {
		return "", nil
	}
	return string(b[n : n+int(l)]), b[n+int(l):]
}
