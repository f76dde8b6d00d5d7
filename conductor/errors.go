package conductor

import (
	"fmt"

	"github.com/cellmap/cellmap/api"
)

// Errors of the cell database: those of the conductor's API (package api), which its client
// turns back into the same sentinels. Match them with errors.Is; they come wrapped with detail.
var (
	// ErrNotFound: no such instance (or it is deleted and deleted ones were not asked for), or
	// no such compute host.
	ErrNotFound = api.ErrNotFound
	// ErrAlreadyExists: the compute host is registered already, or the instance uuid belongs to
	// a deleted instance.
	ErrAlreadyExists = api.ErrAlreadyExists
	// ErrNoValidHost: no enabled compute host has room for the flavor; nothing was written.
	ErrNoValidHost = api.ErrNoValidHost
	// ErrMarkerNotFound: the list marker is not an instance of this cell.
	ErrMarkerNotFound = api.ErrMarkerNotFound
	// ErrInvalid: the request is malformed or out of range.
	ErrInvalid = api.ErrInvalid
)

// invalidError is a validation failure: its message is the detail alone, and it matches
// ErrInvalid.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}
