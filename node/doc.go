// Package node runs one cellmap cluster member: hashicorp/raft over the [fsm] state, with
// raft-boltdb (fsync on) for the log and a file snapshot store.
//
// It is the only holder of *raft.Raft and of the state. Every node accepts every request:
// writes on a follower are forwarded to the leader on its raft port (a framed request over kept
// connections) and answered as if local. Every read goes through [Node.Read] with a named
// [Consistency]: [Linearizable] reads note the leader's commit index, confirm leadership with
// one quorum round shared by all concurrent reads (followers ask the leader for that index on
// its raft port, one small request over a kept connection), wait until the local state has
// applied the index, then read locally; [Stale] reads serve the local state and report its
// age; [LocalUnchecked] reads serve it without a word. A new leader serves no linearizable read
// before it has committed an entry of its own term.
//
// Writes whose outcome is unknown (leadership lost after proposing, the caller's deadline)
// return [ErrOutcomeUnknown]; every other failure is definite. The leader proposes only
// entries that decode and validate ([fsm.DecodeValid]) in a log version every member reads
// (logversion.go), wherever they came from. Membership changes are checked by the leader: a
// joiner must answer on its raft address as itself, a join never silently replaces a member,
// and no change may leave fewer live voters than a quorum (membership.go, quorum.go).
package node
