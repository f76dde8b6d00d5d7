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
