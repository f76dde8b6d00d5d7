// Package jsonbody reads JSON request bodies strictly, the same way for every HTTP server of
// cellmap (the API tier and the cell conductor).
package jsonbody

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// Error is a body that is not exactly one JSON object of the expected shape. Its text is
// meant for the client.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Decode reads one JSON object into v: no unknown fields, nothing after it, at most limit
// bytes. A body over the limit returns the *http.MaxBytesError; any other problem an *Error.
func Decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if tooLarge(err) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return &Error{"request body is empty, want a JSON object"}
		}
		return &Error{"bad JSON body: " + err.Error()}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if tooLarge(err) {
			return err
		}
		return &Error{"bad JSON body: data after the object"}
	}
	return nil
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
