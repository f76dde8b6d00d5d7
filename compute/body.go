package compute

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// maxBody bounds a request body (Nova's [oslo_middleware]max_request_body_size is 112 KiB).
const maxBody = 112 << 10

// decodeBody reads a JSON body into v; unknown fields, bad JSON and oversized bodies are a
// 400 (413 for the size), as Nova's schemas answer.
func decodeBody(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return faultf(http.StatusUnsupportedMediaType, "Unsupported Content-Type")
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return faultf(http.StatusBadRequest, "cannot read the request body: %v", err)
	}
	if len(data) > maxBody {
		return faultf(http.StatusRequestEntityTooLarge, "Request is too large.")
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return faultf(http.StatusBadRequest, "The request body is empty.")
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return faultf(http.StatusBadRequest, "Malformed request body")
		}
		return faultf(http.StatusBadRequest, "Invalid input: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return faultf(http.StatusBadRequest, "Malformed request body")
	}
	return nil
}
