package cellproxy

import (
	"errors"
	"fmt"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// Errors of the data plane.
var (
	// ErrCellDown: the server's cell is down; nothing was changed.
	ErrCellDown = errors.New("cell is down")
	// ErrProjectCellDown: the project has servers in a down cell, so its usage cannot be
	// counted; creating servers is refused until the cell is back.
	ErrProjectCellDown = errors.New("project has servers in a cell that is down")
	// ErrHostMappingExists: a concurrent discovery mapped a host first.
	ErrHostMappingExists = errors.New("duplicate host mapping was encountered")
	// ErrZoneUnavailable: a create names an availability zone that does not exist (with
	// ErrInvalid).
	ErrZoneUnavailable = errors.New("the requested availability zone is not available")
)

// Errors the data plane shares with the layers below, so errors.Is matches every layer.
var (
	// ErrNotFound: no such server (or instance in its cell).
	ErrNotFound = fsm.ErrNotFound
	// ErrInstancesExist: a cell or host still runs non-deleted instances.
	ErrInstancesExist = fsm.ErrInstancesExist
	// ErrInvalid: the request is not acceptable.
	ErrInvalid = fsm.ErrInvalid
	// ErrMarkerNotFound: the list marker is not a known server.
	ErrMarkerNotFound = fsm.ErrMarkerNotFound
	// ErrOutcomeUnknown: a conductor got a write but its answer was lost; it may have happened.
	ErrOutcomeUnknown = node.ErrOutcomeUnknown
)

// codes are the wire codes of the data plane's own errors (the shared ones have fsm's and node's).
var codes = []struct {
	err  error
	code string
}{
	{ErrCellDown, api.CodeCellDown},
	{ErrProjectCellDown, api.CodeProjectCellDown},
	{ErrHostMappingExists, api.CodeHostMappingExists},
}

// Code returns the wire code of a data plane error, or "" when err is not one.
func Code(err error) string {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// CellsError carries the cells an error is about (e.g. the down cells of a refused create).
type CellsError struct {
	Err   error
	Cells []string
}

func (e *CellsError) Error() string { return e.Err.Error() }
func (e *CellsError) Unwrap() error { return e.Err }

// refusal is a domain error whose message is nova-manage's own sentence (capitalised, as
// operators know it), followed by the sentinel it matches.
type refusal struct {
	msg string
	err error
}

func (e *refusal) Error() string { return e.msg + ": " + e.err.Error() }
func (e *refusal) Unwrap() error { return e.err }

// novaRefusal returns err with nova-manage's message for it.
func novaRefusal(err error, format string, args ...any) error {
	return &refusal{msg: fmt.Sprintf(format, args...), err: err}
}
