package api

// Error is the body of every non-2xx answer: {"error": {"code": ..., "message": ...}}.
type Error struct {
	Detail ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong. Code is stable snake_case; Message is for humans.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// FailedOp is the index of the transaction op that failed, when one did.
	FailedOp *int `json:"failed_op,omitempty"`
	// Cells lists the cells involved (e.g. the down cells of a refused create).
	Cells []string `json:"cells,omitempty"`
}

// Error codes. A client must treat CodeOutcomeUnknown differently from every other failure:
// the write may or may not have happened.
const (
	CodeBadRequest             = "bad_request"
	CodeInvalid                = "invalid"
	CodeNotFound               = "not_found"
	CodeAlreadyExists          = "already_exists"
	CodeRevisionMismatch       = "revision_mismatch"
	CodeCellMismatch           = "cell_mismatch"
	CodeDuplicateURL           = "duplicate_url"
	CodeCell0Immutable         = "cell0_immutable"
	CodeHostsMapped            = "hosts_mapped"
	CodeInstancesExist         = "instances_exist"
	CodeDeletedInstancesMapped = "deleted_instances_mapped"
	CodeUnknownCell            = "unknown_cell"
	CodeMethodNotAllowed       = "method_not_allowed"
	CodeNoSuchEndpoint         = "no_such_endpoint"
	CodeTooLarge               = "request_too_large"
	CodeOutcomeUnknown         = "outcome_unknown"
	CodeNoLeader               = "no_leader"
	CodeBusy                   = "busy"
	CodeUnavailable            = "unavailable"
	CodeStale                  = "stale"
	CodeUnknownServer          = "unknown_server"
	CodeInternal               = "internal"
	// Data plane.
	CodeCellDown        = "cell_down"
	CodeProjectCellDown = "project_cell_down"
	CodeNoValidHost     = "no_valid_host"
	CodeMarkerNotFound  = "marker_not_found"
	// CodeHostMappingExists: a concurrent discover_hosts mapped a host first.
	CodeHostMappingExists = "host_mapping_exists"
)
