package validate

import (
	"errors"
	"fmt"
)

// ErrInvalid is what every failure of this package matches (errors.Is).
var ErrInvalid = errors.New("invalid")

// Error is a failed rule. Its message is the detail alone, e.g. `name must not contain
// control characters`, fit to show to whoever sent the value.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

// Is reports whether target is ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error { return &Error{msg: fmt.Sprintf(format, args...)} }
