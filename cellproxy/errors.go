package cellproxy

import (
	"errors"

	"github.com/cellmap/cellmap/fsm"
)

// Errors of the data plane. Not-found and conflict errors of the state are fsm's sentinels.
var (
	// ErrCellDown: the server's cell is down; nothing was changed.
	ErrCellDown = errors.New("cell is down")
	// ErrProjectCellDown: the project has servers in a down cell, so its usage cannot be
	// counted; creating servers is refused until the cell is back.
	ErrProjectCellDown = errors.New("project has servers in a cell that is down")
	// ErrMarkerNotFound: the list marker is not a known server.
	ErrMarkerNotFound = errors.New("marker not found")
	// ErrInvalid: the request is not acceptable.
	ErrInvalid = errors.New("invalid request")
	// ErrOutcomeUnknown: a conductor got the request but its answer was lost.
	ErrOutcomeUnknown = errors.New("cell request outcome unknown")
	// ErrHostMappingExists: a concurrent discovery mapped a host first.
	ErrHostMappingExists = errors.New("duplicate host mapping was encountered")

	// ErrNotFound and ErrInstancesExist are the state's sentinels, so errors.Is matches both
	// layers.
	ErrNotFound       = fsm.ErrNotFound
	ErrInstancesExist = fsm.ErrInstancesExist
)

// CellsError carries the cells an error is about (e.g. the down cells of a refused create).
type CellsError struct {
	Err   error
	Cells []string
}

func (e *CellsError) Error() string { return e.Err.Error() }
func (e *CellsError) Unwrap() error { return e.Err }
