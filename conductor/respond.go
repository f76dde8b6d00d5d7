package conductor

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/jsonbody"
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

// errorStatus returns the status and code of err: the code of a conductor API error
// (api.ConductorCode), unavailable for a request that ended, else internal.
func errorStatus(err error) (int, string) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, api.CodeTooLarge
	}
	code := api.ConductorCode(err)
	if code == "" && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		code = api.CodeUnavailable
	}
	if code == "" {
		code = api.CodeInternal
	}
	return api.Status(code), code
}

// decode reads a JSON body strictly (jsonbody.Decode), at most maxBodyBytes; a bad body is
// ErrInvalid.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	err := jsonbody.Decode(w, r, maxBodyBytes, v)
	if je := (*jsonbody.Error)(nil); errors.As(err, &je) {
		return invalidf("%s", je.Msg)
	}
	return err
}
