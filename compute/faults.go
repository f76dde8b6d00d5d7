package compute

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// Fault is an error answered with Nova's body: {"<name>": {"code": Status, "message": Message}}
// (wsgi.Fault), the name chosen by the status.
type Fault struct {
	Status  int
	Message string
	// Err is the sentinel the fault stands for, if any (errors.Is).
	Err error
}

func (f *Fault) Error() string { return fmt.Sprintf("%d %s", f.Status, f.Message) }
func (f *Fault) Unwrap() error { return f.Err }

// faultf returns a Fault with a formatted message.
func faultf(status int, format string, args ...any) *Fault {
	return &Fault{Status: status, Message: fmt.Sprintf(format, args...)}
}

// faultNames are Nova's names of fault bodies by status; any other status is "computeFault".
var faultNames = map[int]string{
	400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound", 405: "badMethod",
	409: "conflictingRequest", 413: "overLimit", 415: "badMediaType", 429: "overLimit",
	501: "notImplemented", 503: "serviceUnavailable",
}

// FaultName returns the key of Nova's fault body for status.
func FaultName(status int) string {
	if n, ok := faultNames[status]; ok {
		return n
	}
	return "computeFault"
}

// faultBody is Nova's fault body.
func faultBody(status int, msg string) map[string]any {
	return map[string]any{FaultName(status): map[string]any{"code": status, "message": msg}}
}

// unauthorizedBody is what keystonemiddleware answers a request without a valid token (Nova
// itself never sees it).
func unauthorizedBody() map[string]any {
	return map[string]any{"error": map[string]any{"code": http.StatusUnauthorized, "title": "Unauthorized",
		"message": "The request you have made requires authentication."}}
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"computeFault": {"code": 500, "message": "cannot encode the response"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// toFault turns an error of the layers below into the fault Nova would answer; what names a
// resource (server, flavor) is given by the caller's own Fault.
func toFault(err error) *Fault {
	var f *Fault
	var ce *cellproxy.CellsError
	switch {
	case errors.As(err, &f):
		return f
	case errors.Is(err, fsm.ErrQuotaExceeded):
		return quotaExceeded(err)
	case errors.Is(err, acl.ErrForbidden):
		return &Fault{Status: http.StatusForbidden, Message: err.Error(), Err: err}
	case errors.Is(err, cellproxy.ErrProjectCellDown):
		return &Fault{Status: http.StatusServiceUnavailable, Message: err.Error(), Err: err}
	case errors.Is(err, cellproxy.ErrCellDown) && errors.As(err, &ce) && len(ce.Cells) == 1:
		// Nova: a NovaException, answered as 500.
		return &Fault{Status: http.StatusInternalServerError, Err: err,
			Message: fmt.Sprintf("Cell %s is not responding or returned an exception, hence instance info is not available.", ce.Cells[0])}
	case errors.Is(err, cellproxy.ErrCellDown):
		return &Fault{Status: http.StatusInternalServerError, Message: err.Error(), Err: err}
	case errors.Is(err, fsm.ErrMarkerNotFound), errors.Is(err, fsm.ErrInvalid):
		return &Fault{Status: http.StatusBadRequest, Message: err.Error(), Err: err}
	case errors.Is(err, fsm.ErrNotFound):
		return &Fault{Status: http.StatusNotFound, Message: err.Error(), Err: err}
	case errors.Is(err, fsm.ErrExists), errors.Is(err, fsm.ErrRevisionMismatch), errors.Is(err, fsm.ErrInstancesExist):
		return &Fault{Status: http.StatusConflict, Message: err.Error(), Err: err}
	case errors.Is(err, node.ErrOutcomeUnknown), errors.Is(err, node.ErrNoLeader):
		return &Fault{Status: http.StatusServiceUnavailable, Message: err.Error(), Err: err}
	}
	return &Fault{Status: http.StatusInternalServerError, Message: "Unexpected API Error. " + err.Error(), Err: err}
}
