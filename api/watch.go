package api

import "encoding/json"

// The change stream (GET /v1/watch) answers newline-delimited WatchEvents.

// Types of WatchEvent.
const (
	// WatchTypeEvent is one change of one record.
	WatchTypeEvent = "event"
	// WatchTypeProgress says the stream has delivered every matching change up to Revision.
	WatchTypeProgress = "progress"
	// WatchTypeError ends the stream (Code says why: compacted, slow_consumer, ...).
	WatchTypeError = "error"
)

// Event operations.
const (
	WatchOpPut    = "put"
	WatchOpDelete = "delete"
)

// Watch kinds.
const (
	KindCells            = "cells"
	KindFlavors          = "flavors"
	KindHostMappings     = "host_mappings"
	KindInstanceMappings = "instance_mappings"
)

// WatchEvent is one line of the change stream.
type WatchEvent struct {
	Type string `json:"type"`
	// Revision is the raft index of the change (events), or the revision the stream has
	// reached (progress). Resume with since=Revision of the last event or progress seen.
	Revision uint64 `json:"revision"`
	// Sub orders the changes of one revision (a transaction changes several records).
	Sub    uint32          `json:"sub,omitempty"`
	Kind   string          `json:"kind,omitempty"`
	Op     string          `json:"op,omitempty"`
	Key    string          `json:"key,omitempty"`
	Record json.RawMessage `json:"record,omitempty"`
	// Code and Message explain an error event.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Compacted, on a compacted error, is the oldest since the node can serve.
	Compacted uint64 `json:"compacted,omitempty"`
}

// HeaderCompacted, on a 410 compacted answer, is the oldest since the node can serve.
const HeaderCompacted = "X-Cellmap-Compacted"
