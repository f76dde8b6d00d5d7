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

// KeyringRequest is the body of POST /v1/operator/keyring: op is install, use or remove, key a
// base64 gossip key (16, 24 or 32 bytes).
type KeyringRequest struct {
	Op  string `json:"op"`
	Key string `json:"key"`
}

// KeyringMember is one gossip member's answer to a keyring operation.
type KeyringMember struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	CellUUID string `json:"cell_uuid,omitempty"`
	// Keys are the member's keys, primary first (list only).
	Keys []string `json:"keys,omitempty"`
	// Error is why the member failed, or "no answer".
	Error string `json:"error,omitempty"`
}

// KeyringResult is the pool's answer to a keyring operation (GET and POST
// /v1/operator/keyring): Members alive members were asked, Failed of them failed or did not
// answer. A list counts, per key, the members holding it (Keys) and using it to encrypt
// (Primary).
type KeyringResult struct {
	Op      string          `json:"op"`
	Members int             `json:"members"`
	Failed  int             `json:"failed"`
	Results []KeyringMember `json:"results"`
	Keys    map[string]int  `json:"keys,omitempty"`
	Primary map[string]int  `json:"primary,omitempty"`
}

// AutopilotHealth is the answer of GET /v1/operator/autopilot/health: the leader's autopilot
// view of every server of the raft configuration.
type AutopilotHealth struct {
	// Healthy is true when every server is healthy.
	Healthy bool `json:"healthy"`
	// FailureTolerance is how many healthy voters may fail with a quorum left.
	FailureTolerance int               `json:"failure_tolerance"`
	Leader           string            `json:"leader"`
	Voters           []string          `json:"voters"`
	Servers          []AutopilotServer `json:"servers"`
	Config           AutopilotConfig   `json:"config"`
}

// AutopilotServer is one server as autopilot sees it.
type AutopilotServer struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	// NodeStatus is the server's gossip status: alive, failed (with FailedSince: since when
	// this leader has seen it failed) or unknown (the pool has no record of it: its health
	// rests on its raft port's answers, and it is never removed as dead).
	NodeStatus  string     `json:"node_status"`
	FailedSince *time.Time `json:"failed_since,omitempty"`
	// State is leader, voter, non-voter or staging.
	State   string `json:"state"`
	Healthy bool   `json:"healthy"`
	// StableSince is when Healthy last changed.
	StableSince time.Time `json:"stable_since"`
	// LastContactMS is the time since the server last heard from the leader (-1 never),
	// LastTerm and LastIndex its last raft log entry, as the leader last fetched them.
	LastContactMS int64  `json:"last_contact_ms"`
	LastTerm      uint64 `json:"last_term"`
	LastIndex     uint64 `json:"last_index"`
}

// AutopilotConfig is the autopilot configuration of the leader (durations as Go durations,
// e.g. "10s").
type AutopilotConfig struct {
	CleanupDeadServers      bool   `json:"cleanup_dead_servers"`
	DeadServerThreshold     string `json:"dead_server_threshold"`
	LastContactThreshold    string `json:"last_contact_threshold"`
	MaxTrailingLogs         uint64 `json:"max_trailing_logs"`
	MinQuorum               uint   `json:"min_quorum"`
	ServerStabilizationTime string `json:"server_stabilization_time"`
}
