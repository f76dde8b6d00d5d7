// Package history records what a chaos run did: every client operation (an invoke, then ok,
// fail or info), every nemesis start and stop, every node status poll and the run's phases,
// all on one monotonic clock. A history is written as JSON lines (history.jsonl) and can be
// loaded back to re-check a run offline.
package history

import "encoding/json"

// Kind says what an [Event] is.
type Kind string

// Event kinds. A client operation is an invoke followed by exactly one of ok, fail or info
// (sharing Op); fail means it certainly did not happen, info that its fate is unknown.
const (
	KindInvoke  Kind = "invoke"
	KindOK      Kind = "ok"
	KindFail    Kind = "fail"
	KindInfo    Kind = "info"
	KindNemesis Kind = "nemesis"
	KindStatus  Kind = "status"
	KindPhase   Kind = "phase"
	// KindObserve is what a watcher (a client cache of the watch workload, named by Node)
	// saw: a change (F add, update or delete of Key at Rev; Detail "relist" for the changes
	// of a listing), the revision it synced at (F synced) or its final state (F final,
	// Elements, Rev; Error when it did not converge).
	KindObserve Kind = "observe"
)

// IsCompletion reports whether k ends a client operation.
func (k Kind) IsCompletion() bool { return k == KindOK || k == KindFail || k == KindInfo }

// Nemesis phases.
const (
	PhaseStart = "start"
	PhaseStop  = "stop"
)

// Run phases (Event.F of KindPhase events).
const (
	PhaseRunStart     = "run-start"     // Data: the run's Config
	PhaseHealthy      = "healthy"       // the cluster formed and answered
	PhaseSetup        = "setup"         // a workload's one-time setup (Detail: its name) succeeded
	PhaseSetupFailed  = "setup-failed"  // a workload's one-time setup failed (Error says why)
	PhaseUnhealthy    = "unhealthy"     // the cluster never became healthy
	PhaseEpisodeStart = "episode-start" // Episode set
	PhaseWorkloadStop = "workload-stop" // the episode's client load stopped
	PhaseHealed       = "healed"        // every fault undone
	PhaseConverged    = "converged"     // Data: the final statuses; Error set when not converged
	PhaseEpisodeEnd   = "episode-end"
	PhaseInterrupted  = "interrupted" // the run was stopped (SIGINT, SIGTERM) mid-episode
	PhaseRunEnd       = "run-end"
)

// Event is one line of a history. Which fields are set depends on Kind and F.
type Event struct {
	// Seq numbers events in the order they were recorded (equal to time order).
	Seq int64 `json:"seq"`
	// Time is nanoseconds since the run started, from one monotonic clock.
	Time int64 `json:"time"`
	Kind Kind  `json:"kind"`
	// Episode is the episode the event belongs to (1-based; 0 before the first).
	Episode int `json:"episode,omitempty"`

	// Op identifies a client operation: its invoke and its completion share it.
	Op int64 `json:"op,omitempty"`
	// Process is the logical client that ran the operation. A client whose operation ended
	// with info continues as a new process, as in Jepsen.
	Process int `json:"process,omitempty"`
	// Workload names the workload of a client operation.
	Workload string `json:"workload,omitempty"`
	// F is the operation (read, write, cas, stale-read, add, list), the nemesis name or the
	// run phase.
	F string `json:"f,omitempty"`
	// Key is the register key (an instance uuid) or the set's project id.
	Key string `json:"key,omitempty"`
	// Node is the node a request went to, or whose status this is.
	Node string `json:"node,omitempty"`
	// Value is the value written or read (register: the mapping's user_id; "" on a read means
	// absent) or the element added (set).
	Value string `json:"value,omitempty"`
	// Expect is a compare-and-set's expected revision.
	Expect uint64 `json:"expect,omitempty"`
	// Rev is the revision read or produced (0: unknown).
	Rev uint64 `json:"rev,omitempty"`
	// ServerIndex is the X-Cellmap-Index of the answer (the serving node's applied index).
	ServerIndex uint64 `json:"server_index,omitempty"`
	// Elements is a listing's result.
	Elements []string `json:"elements,omitempty"`
	// Error is the API error code (or the transport error) of fail and info completions.
	Error string `json:"error,omitempty"`

	// Phase is start or stop for nemesis events; Fault pairs a start with its stop.
	Phase string `json:"phase,omitempty"`
	Fault int    `json:"fault,omitempty"`
	// Targets are the nodes a fault acts on.
	Targets []string `json:"targets,omitempty"`
	// Detail describes a fault or a phase for humans.
	Detail string `json:"detail,omitempty"`

	// Status is a node's cluster status (KindStatus).
	Status *Status `json:"status,omitempty"`
	// Data carries structured extras (the run config, final statuses, fault parameters).
	Data json.RawMessage `json:"data,omitempty"`
}

// Status is the part of a node's cluster status the checkers use.
type Status struct {
	State         string   `json:"state"`
	Term          uint64   `json:"term"`
	LeaderID      string   `json:"leader_id,omitempty"`
	CommitIndex   uint64   `json:"commit_index"`
	AppliedIndex  uint64   `json:"applied_index"`
	LastLogIndex  uint64   `json:"last_log_index"`
	Servers       []string `json:"servers,omitempty"` // sorted voter ids
	Checksum      string   `json:"fsm_checksum,omitempty"`
	ChecksumIndex uint64   `json:"fsm_checksum_index"`
}

// CacheStats is the Data of a watch cache's final observation.
type CacheStats struct {
	Reconnects uint64 `json:"reconnects"`
	Relists    uint64 `json:"relists"`
}
