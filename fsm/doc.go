// Package fsm is cellmap's replicated state machine: the cell, host and instance mappings, build
// requests, request specs, flavors, cell0 instances and map_instances markers of one cells
// deployment, kept in a bbolt file and changed only by raft log entries.
//
// # Log entries
//
// An entry is a one-byte [CommandType], the proposer's wall-clock time and a compact binary body
// (see codec.go). Entries of a command type added after log version 1 start with a 0 byte and
// their log version ([Encode]); version 1 entries keep the original layout, so logs and
// snapshots of every release stay readable. A leader proposes only entries that decode and
// pass [Command.Validate] ([DecodeValid]), and only entries of a version every replica reads. [FSM.ApplyBatch] dispatches every entry through a table built in [Open] and
// applies a whole raft batch in one bbolt transaction, together with the applied raft index, so a
// batch costs one fsync and a restarted node skips entries it has already applied (raft runs with
// NoSnapshotRestoreOnStart). Apply is deterministic: times and ids are stamped before proposing.
//
// Failure classes are explicit: an unknown command type or an undecodable body panics (a replica
// that cannot apply an entry must stop rather than diverge; leaders never propose one), while domain failures (not found,
// conflict, precondition failed) are returned as the entry's *[Result] and change nothing.
//
// # Reads
//
// [FSM.View] runs a read-only bbolt transaction under the lock that [FSM.Restore] takes to swap
// the database file, so readers never see a half-restored state. Every record carries the raft
// index that last changed it as its revision.
//
// # Caveats
//
// A snapshot is a bbolt read transaction streamed to raft's sink while Apply goes on. A long read
// transaction blocks a writer that needs to grow the memory map, so [Config.InitialMmapSize] should
// exceed the expected database size.
package fsm
