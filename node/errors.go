package node

import (
	"errors"
	"fmt"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
)

// Errors of the node. Domain errors of the state come back inside *fsm.Result instead.
var (
	// ErrNotLeader: this node is not the leader (internal; the node forwards and retries).
	ErrNotLeader = errors.New("node is not the leader")
	// ErrNoLeader: no leader is known before the caller's deadline; nothing was written.
	ErrNoLeader = errors.New("no cluster leader")
	// ErrOutcomeUnknown: the write was proposed but its fate is unknown; it may still commit.
	ErrOutcomeUnknown = errors.New("write outcome unknown")
	// ErrBusy: the leader could not enqueue the write in time; nothing was written.
	ErrBusy = errors.New("leader is too busy to accept the write")
	// ErrShutdown: the node is shutting down.
	ErrShutdown = errors.New("node is shutting down")
	// ErrStale: a stale read was refused because the node's data is older than allowed and
	// no leader could serve a fresh one.
	ErrStale = errors.New("local data is staler than allowed")
	// ErrUnknownServer: no server with that id is in the raft configuration.
	ErrUnknownServer = errors.New("no such server in the cluster")
	// ErrInvalid: a membership request lacks an id or address, or a write breaks the API's
	// rules (an entry that does not decode or validate); nothing was done. It is fsm's
	// sentinel, so a write refused by the leader and one refused by the state machine's
	// checks match the same error.
	ErrInvalid = fsm.ErrInvalid
	// ErrMemberExists: a join names the id or the address of another member and did not ask
	// to replace it; nothing changed.
	ErrMemberExists = errors.New("another member has this id or address")
	// ErrMemberUnreachable: the joiner did not answer as that node at its raft address.
	ErrMemberUnreachable = errors.New("joining node cannot be reached at its raft address")
	// ErrQuorumAtRisk: the membership change would leave fewer live voters than a quorum.
	ErrQuorumAtRisk = errors.New("membership change would leave the cluster without a quorum")
	// ErrUnsupportedVersion: the write needs a log version that the leader or another member
	// does not read yet (a rolling upgrade is under way); nothing was proposed.
	ErrUnsupportedVersion = fsm.ErrUnsupportedVersion
	// ErrAutopilotDisabled: the leader does not run autopilot.
	ErrAutopilotDisabled = errors.New("autopilot is not running on the leader")
)

// codes are the wire codes of the node's errors: the one table of the node-to-node protocol
// (forwarded writes, read indexes, membership) and the node's part of the HTTP API's codes.
var codes = []struct {
	err  error
	code string
}{
	{ErrOutcomeUnknown, api.CodeOutcomeUnknown},
	{ErrNoLeader, api.CodeNoLeader},
	{ErrBusy, api.CodeBusy},
	{ErrShutdown, api.CodeUnavailable},
	{ErrStale, api.CodeStale},
	{ErrUnknownServer, api.CodeUnknownServer},
	{ErrInvalid, api.CodeInvalid},
	{ErrMemberExists, api.CodeMemberExists},
	{ErrMemberUnreachable, api.CodeMemberUnreachable},
	{ErrQuorumAtRisk, api.CodeQuorumAtRisk},
	{ErrUnsupportedVersion, api.CodeUnsupportedVersion},
	{ErrNotLeader, api.CodeNotLeader},
	{ErrAutopilotDisabled, api.CodeAutopilotDisabled},
}

// Code returns the wire code of a node error, or "" when err is not one.
func Code(err error) string {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// peerError turns a peer's error answer back into the node error it stands for, with the
// peer's message; ok is false for a code that is not a node error's. A peer that is shutting
// down means, to the asking node, that there is no leader to ask (it retries).
func peerError(code, msg string) (err error, ok bool) {
	for _, c := range codes {
		if c.code == code {
			err = c.err
			if err == ErrShutdown {
				err = ErrNoLeader
			}
			return fmt.Errorf("%w: %s", err, msg), true
		}
	}
	return nil, false
}
