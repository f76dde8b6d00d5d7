package api

// Response headers.
const (
	// HeaderIndex is the raft index applied by the node that answered, on every response.
	HeaderIndex = "X-Cellmap-Index"
	// HeaderKnownLeader is "true" when the answering node knows a leader.
	HeaderKnownLeader = "X-Cellmap-Known-Leader"
	// HeaderLeader is the HTTP API address (host:port) of the leader as the answering node
	// knows it, on every answer to an authenticated and authorized request while the node
	// knows it (never on 401/403 answers nor on public endpoints). The Go client with
	// LeaderWrites sends writes there; it is the leader_http_addr of /v1/cluster/status.
	HeaderLeader = "X-Cellmap-Leader"
	// HeaderLastContact is, on stale reads, the milliseconds since the answering node last
	// heard from the leader (0 on the leader).
	HeaderLastContact = "X-Cellmap-Last-Contact"
	// HeaderConsistency says which consistency the read was served with.
	HeaderConsistency = "X-Cellmap-Consistency"
	// HeaderRequestID is the request's id, on every answer: the one the client sent when it
	// is 1 to 64 printable ASCII characters without spaces, else a new one. Log lines of the
	// request carry it as request_id on every process it reaches.
	HeaderRequestID = "X-Request-Id"
)

// Read consistency levels (query parameter "consistency").
const (
	// Linearizable reads reflect every write acknowledged before the read began (default).
	Linearizable = "linearizable"
	// Stale reads come from the answering node's local state; see HeaderLastContact and the
	// "max_stale" parameter.
	Stale = "stale"
)

// Cell0UUID is the uuid of cell0.
const Cell0UUID = "00000000-0000-0000-0000-000000000000"
