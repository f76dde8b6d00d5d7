package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// TestErrorStatus pins the API's status and code of every layer's errors, wrapped as they
// travel.
func TestErrorStatus(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("detail: %w", err) }
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{wrap(fsm.ErrNotFound), http.StatusNotFound, api.CodeNotFound},
		{wrap(fsm.ErrUnknownCell), http.StatusNotFound, api.CodeUnknownCell},
		{fsm.ErrExists, http.StatusConflict, api.CodeAlreadyExists},
		{fsm.ErrRevisionMismatch, http.StatusPreconditionFailed, api.CodeRevisionMismatch},
		{fsm.ErrCellMismatch, http.StatusConflict, api.CodeCellMismatch},
		{fsm.ErrDuplicateURL, http.StatusConflict, api.CodeDuplicateURL},
		{fsm.ErrCell0Immutable, http.StatusConflict, api.CodeCell0Immutable},
		{fsm.ErrHostsMapped, http.StatusConflict, api.CodeHostsMapped},
		{fsm.ErrInstancesExist, http.StatusConflict, api.CodeInstancesExist},
		{fsm.ErrDeletedInstancesMapped, http.StatusConflict, api.CodeDeletedInstancesMapped},
		{fsm.ErrInvalid, http.StatusBadRequest, api.CodeInvalid},
		{fsm.ErrMarkerNotFound, http.StatusBadRequest, api.CodeMarkerNotFound},
		{fsm.ErrorFromCode("not_found", "from a peer"), http.StatusNotFound, api.CodeNotFound},
		{wrap(node.ErrOutcomeUnknown), http.StatusServiceUnavailable, api.CodeOutcomeUnknown},
		{wrap(node.ErrNoLeader), http.StatusServiceUnavailable, api.CodeNoLeader},
		{node.ErrBusy, http.StatusServiceUnavailable, api.CodeBusy},
		{node.ErrShutdown, http.StatusServiceUnavailable, api.CodeUnavailable},
		{node.ErrStale, http.StatusServiceUnavailable, api.CodeStale},
		{node.ErrUnknownServer, http.StatusNotFound, api.CodeUnknownServer},
		{wrap(node.ErrInvalid), http.StatusBadRequest, api.CodeInvalid},
		{&cellproxy.CellsError{Cells: []string{"c"}, Err: wrap(cellproxy.ErrCellDown)}, http.StatusServiceUnavailable, api.CodeCellDown},
		{cellproxy.ErrProjectCellDown, http.StatusServiceUnavailable, api.CodeProjectCellDown},
		{wrap(cellproxy.ErrMarkerNotFound), http.StatusBadRequest, api.CodeMarkerNotFound},
		{wrap(cellproxy.ErrInvalid), http.StatusBadRequest, api.CodeInvalid},
		{wrap(cellproxy.ErrOutcomeUnknown), http.StatusServiceUnavailable, api.CodeOutcomeUnknown},
		{wrap(cellproxy.ErrHostMappingExists), http.StatusConflict, api.CodeHostMappingExists},
		{wrap(cellproxy.ErrNotFound), http.StatusNotFound, api.CodeNotFound},
		{invalidf("bad %s", "input"), http.StatusBadRequest, api.CodeInvalid},
		{&http.MaxBytesError{Limit: 1}, http.StatusRequestEntityTooLarge, api.CodeTooLarge},
		{wrap(context.DeadlineExceeded), http.StatusServiceUnavailable, api.CodeUnavailable},
		{errors.New("boom"), http.StatusInternalServerError, api.CodeInternal},
		// A conductor's own errors are the data plane's to translate; untranslated, internal.
		{wrap(api.ErrNotFound), http.StatusInternalServerError, api.CodeInternal},
	} {
		if status, code := errorStatus(tc.err); status != tc.status || code != tc.code {
			t.Errorf("%v: got %d %s, want %d %s", tc.err, status, code, tc.status, tc.code)
		}
	}
}
