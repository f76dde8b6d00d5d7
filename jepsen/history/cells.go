package history

// Events of the cells workload and its conductor-cut nemesis.
//
// A cells operation is an invoke and a completion like any other (Workload "cells"):
//
//   - create: Key is the project, Value the server's unique name; an ok completion carries
//     [ServerCreated] in Data (the id the API answered with 202).
//   - delete: Key is the server id; Error is the API code of a refusal (cell_down).
//   - list: all tenants, no paging; an ok completion carries [ServerListing] in Data. The
//     final listing of an episode has Value "final".
//
// The conductor-cut nemesis records, besides its start and stop, events of kind nemesis with
// F "conductor-cut" and one of the phases below; their Data is a [CellEvent].
const (
	// PhaseCellDown: every node reports the cut cell down (the cut window opens).
	PhaseCellDown = "cell-down"
	// PhaseCellDownTimeout: not every node reported the cut cell down in time.
	PhaseCellDownTimeout = "cell-down-timeout"
	// PhaseHeal: the filter is about to be removed (the cut window closes).
	PhaseHeal = "heal"
	// PhaseCellUp: every node reports the cell up again.
	PhaseCellUp = "cell-up"
	// PhaseCellUpTimeout: not every node reported the cell up in time after the heal.
	PhaseCellUpTimeout = "cell-up-timeout"
)

// PhaseCellsRecovery (a run phase, KindPhase) says that a cell was not up on every node at the
// end of an episode and its conductor was restarted to bring it back (Detail says which).
const PhaseCellsRecovery = "cells-recovery"

// ListFinal is the Value of a final listing.
const ListFinal = "final"

// ServerCreated is the Data of an acknowledged create.
type ServerCreated struct {
	ID     string `json:"id"`
	Status string `json:"status,omitempty"`
}

// ListedServer is one server of a listing: id, status, cell uuid ("" while building) and
// name ("" in a minimal record).
type ListedServer [4]string

// ID, Status, Cell and Name read the fields of a listed server.
func (s ListedServer) ID() string     { return s[0] }
func (s ListedServer) Status() string { return s[1] }
func (s ListedServer) Cell() string   { return s[2] }
func (s ListedServer) Name() string   { return s[3] }

// ServerListing is the Data of a successful listing: every server returned and the cells the
// answer named down. Truncated is set when the answer hit the API's page limit (then it is
// not a complete listing).
type ServerListing struct {
	DownCells []string       `json:"down_cells"`
	Servers   []ListedServer `json:"servers"`
	Truncated bool           `json:"truncated,omitempty"`
}

// CellEvent is the Data of a conductor-cut event.
type CellEvent struct {
	// Cell is the cut cell's uuid, Conductor its conductor's host name.
	Cell      string `json:"cell"`
	Conductor string `json:"conductor"`
	// Statuses are the cell's health as each node reported it last ("down", "up", or the
	// error when a node did not answer).
	Statuses map[string]string `json:"statuses,omitempty"`
	// Restarted: the conductor process was restarted to bring the cell back.
	Restarted bool `json:"restarted,omitempty"`
	// WaitedMS is how long the nemesis waited for the state the phase names.
	WaitedMS int64 `json:"waited_ms,omitempty"`
}
