package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/jsonbody"
	"github.com/cellmap/cellmap/node"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// reply writes v as JSON with the applied index it reflects.
func (s *Service) reply(w http.ResponseWriter, status int, index uint64, v any) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		s.logger.Error("encode response", "error", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"code":"internal","message":"cannot encode response"}}` + "\n")
	}
	s.replyJSON(w, status, index, buf.Bytes())
}

// replyJSON writes an encoded JSON body with the applied index it reflects.
func (s *Service) replyJSON(w http.ResponseWriter, status int, index uint64, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h[api.HeaderIndex] = []string{strconv.FormatUint(index, 10)}
	w.WriteHeader(status)
	w.Write(body)
}

// noContent answers 204 after a write at index.
func (s *Service) noContent(w http.ResponseWriter, index uint64) {
	w.Header().Set(api.HeaderIndex, strconv.FormatUint(index, 10))
	w.WriteHeader(http.StatusNoContent)
}

// fail answers with an error body.
func (s *Service) fail(w http.ResponseWriter, status int, code, msg string) {
	s.reply(w, status, s.node.AppliedIndex(), api.Error{Detail: api.ErrorDetail{Code: code, Message: msg}})
}

// failErr maps an error of the node, the state or the data plane to a status and code.
func (s *Service) failErr(w http.ResponseWriter, err error) {
	status, code := errorStatus(err)
	if status >= 500 && code != api.CodeOutcomeUnknown && code != api.CodeNoLeader && code != api.CodeCellDown {
		s.logger.Warn("request failed", "error", err)
	}
	detail := api.ErrorDetail{Code: code, Message: err.Error()}
	var ce *cellproxy.CellsError
	if errors.As(err, &ce) {
		detail.Cells = ce.Cells
	}
	s.reply(w, status, s.node.AppliedIndex(), api.Error{Detail: detail})
}

// badRequest is a client error found before anything was attempted.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func invalidf(format string, args ...any) error { return &badRequest{fmt.Sprintf(format, args...)} }

// errorStatus returns the status and code of an error of the node, the state or the data
// plane; each of those layers names the codes of its own errors.
func errorStatus(err error) (int, string) {
	var br *badRequest
	if errors.As(err, &br) {
		return http.StatusBadRequest, api.CodeInvalid
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, api.CodeTooLarge
	}
	code := errorCode(err)
	return api.Status(code), code
}

func errorCode(err error) string {
	for _, codeOf := range []func(error) string{fsm.Code, node.Code, cellproxy.Code} {
		if code := codeOf(err); code != "" {
			return code
		}
	}
	switch {
	case errors.Is(err, validate.ErrInvalid):
		return api.CodeInvalid
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, errIdentityUnavailable):
		return api.CodeUnavailable
	}
	return api.CodeInternal
}

// decode reads a JSON body strictly (jsonbody.Decode), at most limit bytes; a bad body is a
// 400 bad request.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	err := jsonbody.Decode(w, r, limit, v)
	if je := (*jsonbody.Error)(nil); errors.As(err, &je) {
		return invalidf("%s", je.Msg)
	}
	return err
}

// applied runs a write and answers its failure (see written); ok reports success.
func (s *Service) applied(w http.ResponseWriter, r *http.Request, c fsm.Command, conditional bool) (*fsm.Result, bool) {
	res, err := s.node.Apply(r.Context(), c)
	return res, s.written(w, res, err, conditional)
}

// written answers a failed write, err or the domain error in res, and reports whether the
// write succeeded. conditional makes "already exists" a 412, as If-None-Match requires.
func (s *Service) written(w http.ResponseWriter, res *fsm.Result, err error, conditional bool) bool {
	if err != nil {
		s.failErr(w, err)
		return false
	}
	if res.Err != nil {
		status, code := errorStatus(res.Err)
		if conditional && code == api.CodeAlreadyExists {
			status = http.StatusPreconditionFailed
		}
		detail := api.ErrorDetail{Code: code, Message: res.Err.Error()}
		if res.FailedOp >= 0 {
			op := res.FailedOp
			detail.FailedOp = &op
		}
		s.reply(w, status, res.Index, api.Error{Detail: detail})
		return false
	}
	return true
}
