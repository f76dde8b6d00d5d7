package api

import "time"

// BackupHeader describes a backup: the header of the file (package backup), also the answer
// of POST /v1/operator/restore.
type BackupHeader struct {
	FormatVersion int       `json:"format_version"`
	RaftIndex     uint64    `json:"raft_index"`
	RaftTerm      uint64    `json:"raft_term"`
	FSMChecksum   string    `json:"fsm_checksum"`
	StateSize     int64     `json:"state_size"`
	Created       time.Time `json:"created"`
	NodeID        string    `json:"node_id"`
}
