// Package jsonbody reads JSON request bodies strictly, the same way for every HTTP server of
// cellmap (the API tier and the cell conductor).
package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"
)

// Error is a body that is not exactly one JSON object of the expected shape. Its text is
// meant for the client.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Decode reads one JSON object into v: valid UTF-8 (encoding/json would silently turn invalid
// bytes into U+FFFD), no unknown fields, nothing after it, at most limit bytes. A body over the
// limit returns the *http.MaxBytesError; any other problem an *Error.
func Decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if tooLarge(err) {
			return err
		}
		return &Error{"cannot read the request body: " + err.Error()}
	}
	if !utf8.Valid(raw) {
		return &Error{"request body is not valid UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
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
