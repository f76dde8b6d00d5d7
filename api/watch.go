package api

import "encoding/json"

// The change stream (GET /v1/watch, one watch; POST /v1/watch, many watches on one stream)
// answers newline-delimited WatchEvents.

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
	// WatchID names the watch of a POST /v1/watch stream an event or error line belongs to;
	// empty on GET streams and on progress lines (a progress line speaks for every watch).
	WatchID string `json:"watch_id,omitempty"`
	Type    string `json:"type"`
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

// WatchRequest is the body of POST /v1/watch: several watches served on one stream, each
// with its own filters and start, their lines told apart by WatchEvent.WatchID. The
// stream's progress lines and consistency are shared.
type WatchRequest struct {
	Watches []WatchSpec `json:"watches"`
	// Consistency "linearizable" catches up with the leader's commit index first.
	Consistency string `json:"consistency,omitempty"`
	// ProgressInterval asks for a progress line at least this often (a Go duration, 10ms
	// to 10m; default 10s).
	ProgressInterval string `json:"progress_interval,omitempty"`
}

// WatchSpec is one watch of a WatchRequest: the query parameters of GET /v1/watch.
type WatchSpec struct {
	// ID is the watch's name on the stream: 1 to MaxWatchIDLen letters, digits, '.', '_'
	// or '-', unique in the request.
	ID    string   `json:"id"`
	Kinds []string `json:"kinds,omitempty"`
	// Since streams every change after this revision; absent streams from now. A since
	// the node no longer serves ends this watch at once with a compacted error line.
	Since     *uint64 `json:"since,omitempty"`
	ProjectID string  `json:"project_id,omitempty"`
	CellUUID  string  `json:"cell_uuid,omitempty"`
}

// Bounds of a WatchRequest.
const (
	MaxWatchIDLen        = 64
	MaxWatchesPerRequest = 1000
)
