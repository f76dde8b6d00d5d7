package api

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

// TestConductorErrorsRoundTrip: a conductor error, wrapped with detail, travels as its code and
// comes back as the same sentinel; a code of none stays none.
func TestConductorErrorsRoundTrip(t *testing.T) {
	for _, sentinel := range []error{ErrNotFound, ErrAlreadyExists, ErrNoValidHost, ErrMarkerNotFound, ErrInvalid} {
		code := ConductorCode(fmt.Errorf("instance x: %w", sentinel))
		if code == "" || Status(code) == http.StatusInternalServerError || ConductorError(code) != sentinel {
			t.Errorf("%v: code %q (status %d) came back as %v", sentinel, code, Status(code), ConductorError(code))
		}
	}
	if code := ConductorCode(errors.New("disk on fire")); code != "" {
		t.Errorf("a plain error got code %q", code)
	}
	if err := ConductorError(CodeCellDown); err != nil {
		t.Errorf("code %q is no conductor error, got %v", CodeCellDown, err)
	}
}
