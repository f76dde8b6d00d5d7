package conductor

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/cellmap/cellmap/api"
)

// maxBodyBytes bounds request bodies.
const maxBodyBytes = 1 << 20

// reply writes v as JSON.
func (c *Conductor) reply(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		c.logger.Error("encode response", "error", err)
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"cannot encode response"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// fail answers with an error body.
func (c *Conductor) fail(w http.ResponseWriter, status int, code, msg string) {
	c.reply(w, status, api.Error{Detail: api.ErrorDetail{Code: code, Message: msg}})
}

// failErr maps an error to a status and code and answers it.
func (c *Conductor) failErr(w http.ResponseWriter, err error) {
	status, code := errorStatus(err)
	if status >= http.StatusInternalServerError {
		c.logger.Warn("request failed", "error", err)
	}
	c.fail(w, status, code, err.Error())
}

var errorStatuses = []struct {
	err    error
	status int
	code   string
}{
	{ErrInvalid, http.StatusBadRequest, api.CodeInvalid},
	{ErrMarkerNotFound, http.StatusBadRequest, api.CodeMarkerNotFound},
	{ErrNotFound, http.StatusNotFound, api.CodeNotFound},
	{ErrAlreadyExists, http.StatusConflict, api.CodeAlreadyExists},
	{ErrNoValidHost, http.StatusConflict, api.CodeNoValidHost},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, api.CodeUnavailable},
	{context.Canceled, http.StatusServiceUnavailable, api.CodeUnavailable},
}

func errorStatus(err error) (int, string) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, api.CodeTooLarge
	}
	for _, m := range errorStatuses {
		if errors.Is(err, m.err) {
			return m.status, m.code
		}
	}
	return http.StatusInternalServerError, api.CodeInternal
}

// decode reads a JSON body strictly: one object, no unknown fields, at most maxBodyBytes.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return invalidf("request body is empty, want a JSON object")
		}
		return invalidf("bad JSON body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return invalidf("bad JSON body: data after the object")
	}
	return nil
}
