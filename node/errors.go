package node

import "errors"

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
)
