package fsm

import (
	"errors"
	"fmt"
)

// Domain errors returned in a [Result]. Each has a stable snake_case code (see [Code]) that the
// HTTP API and the forwarding path carry, so errors.Is works on every node.
var (
	// ErrNotFound: the record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: a record with this key already exists.
	ErrExists = errors.New("already exists")
	// ErrRevisionMismatch: a revision precondition did not hold.
	ErrRevisionMismatch = errors.New("revision mismatch")
	// ErrCellMismatch: the record belongs to another cell than the precondition named.
	ErrCellMismatch = errors.New("record is in another cell")
	// ErrDuplicateURL: another cell already uses this transport_url or database_connection.
	ErrDuplicateURL = errors.New("transport_url and/or database_connection already used by another cell")
	// ErrCell0Immutable: cell0 can be neither disabled nor enabled.
	ErrCell0Immutable = errors.New("cell0 cannot be disabled or enabled")
	// ErrHostsMapped: the cell still has host mappings (delete_cell without --force).
	ErrHostsMapped = errors.New("cell has host mappings")
	// ErrInstancesExist: the cell still has non-deleted instances.
	ErrInstancesExist = errors.New("cell has non-deleted instances")
	// ErrDeletedInstancesMapped: the cell has only deleted instances, still mapped (delete_cell
	// without --force; archive them or force).
	ErrDeletedInstancesMapped = errors.New("cell has instance mappings of deleted instances")
	// ErrUnknownCell: a mapping names a cell that does not exist.
	ErrUnknownCell = errors.New("unknown cell")
	// ErrInvalid: the command is well-formed but its content is not acceptable.
	ErrInvalid = errors.New("invalid request")
	// ErrMarkerNotFound: a listing's marker names no record.
	ErrMarkerNotFound = errors.New("marker not found")
)

var codes = []struct {
	err  error
	code string
}{
	{ErrNotFound, "not_found"},
	{ErrExists, "already_exists"},
	{ErrRevisionMismatch, "revision_mismatch"},
	{ErrCellMismatch, "cell_mismatch"},
	{ErrDuplicateURL, "duplicate_url"},
	{ErrCell0Immutable, "cell0_immutable"},
	{ErrHostsMapped, "hosts_mapped"},
	{ErrInstancesExist, "instances_exist"},
	{ErrDeletedInstancesMapped, "deleted_instances_mapped"},
	{ErrUnknownCell, "unknown_cell"},
	{ErrInvalid, "invalid"},
	{ErrMarkerNotFound, "marker_not_found"},
	{ErrACLBootstrapped, "acl_already_bootstrapped"},
	{ErrQuotaExceeded, "quota_exceeded"},
	{ErrZoneConflict, "zone_conflict"},
}

// Code returns the stable code of a domain error, or "" when err is not one.
func Code(err error) string {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// ErrorFromCode rebuilds a domain error received from another node: its message is msg and it
// matches the sentinel of code with errors.Is. An unknown code gives a plain error.
func ErrorFromCode(code, msg string) error {
	for _, c := range codes {
		if c.code == code {
			return &remoteError{msg: msg, sentinel: c.err}
		}
	}
	return errors.New(msg)
}

type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }

// Result is what applying one log entry returned.
type Result struct {
	// Index is the raft index of the entry: the revision of every record it wrote.
	Index uint64
	// Err is a domain error; nothing was changed when it is set.
	Err error
	// FailedOp is the position of the transaction op that failed, or -1.
	FailedOp int
	// Changed is false when the command succeeded without changing anything (an idempotent
	// map_cell0, an update to the values already stored).
	Changed bool
	// Record is the record a single-record command left in the state (the one it wrote, or
	// the one already there when it changed nothing), so a writer can answer without reading.
	Record Record
}

func okResult(ac *applyCtx) *Result { return &Result{Index: ac.index, FailedOp: -1, Changed: true} }

func failResult(ac *applyCtx, op int, format string, args ...any) *Result {
	return &Result{Index: ac.index, FailedOp: op, Err: fmt.Errorf(format, args...)}
}
