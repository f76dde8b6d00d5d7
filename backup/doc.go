// Package backup reads and writes cellmap backups: a consistent copy of the replicated state
// (the FSM's bbolt file, the bytes a raft snapshot holds) with a header saying where it comes
// from and a trailing hash, as `consul snapshot save` and `etcdctl snapshot save` make them.
//
// # Format (version 1)
//
//	magic    8 bytes   "CMBACKUP"
//	version  2 bytes   big-endian format version (1)
//	length   4 bytes   big-endian length of the header (at most 64 KiB)
//	header   JSON      [Header]: raft index and term, FSM checksum, body size, time, node id
//	body     Header.StateSize bytes: the state file
//	trailer  32 bytes  SHA-256 of every byte before it
//
// A backup is verified as it is read ([Extract]): the structure and the trailing hash as the
// bytes pass, then the state file itself (fsm.Verify: every page readable, the entries hash to
// the stored checksum) and its applied index and checksum against the header. Nothing is
// restored from a backup that fails any of these checks.
//
// [WriteFile] writes a backup to FILE.tmp, verifying it as it is written, fsyncs it and renames
// it to FILE; [Periodic] does so on the leader at an interval and keeps the newest files.
package backup
