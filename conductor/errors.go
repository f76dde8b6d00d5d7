package conductor

import (
	"errors"
	"fmt"
)

// Errors of the cell database. Match them with errors.Is; they come wrapped with detail.
var (
	// ErrNotFound: no such instance (or it is deleted and deleted ones were not asked for), or
	// no such compute host.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: the compute host is registered already, or the instance uuid belongs to
	// a deleted instance.
	ErrAlreadyExists = errors.New("already exists")
	// ErrNoValidHost: no enabled compute host has room for the flavor; nothing was written.
	ErrNoValidHost = errors.New("no valid host")
	// ErrMarkerNotFound: the list marker is not an instance of this cell.
	ErrMarkerNotFound = errors.New("marker not found")
	// ErrInvalid: the request is malformed or out of range.
	ErrInvalid = errors.New("invalid")
)

// invalidError is a validation failure: its message is the detail alone, and it matches
// ErrInvalid.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}
