package api

import (
	"errors"
	"net/http"

	"github.com/cellmap/cellmap/api/validate"
)

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
	// CodeNotLeader travels only between nodes: the asked node no longer leads.
	CodeNotLeader = "not_leader"
	// CodeUnsupportedVersion: the write needs a log version some member does not read yet.
	CodeUnsupportedVersion = "unsupported_version"
	// Membership: a join whose id or address another member has (without replace); a joiner
	// that does not answer as that node at its raft address; a change that would leave the
	// cluster without a quorum of live voters.
	CodeMemberExists      = "member_exists"
	CodeMemberUnreachable = "member_unreachable"
	CodeQuorumAtRisk      = "quorum_at_risk"
	// CodeAutopilotDisabled: the leader does not run autopilot (cellmapd --autopilot=false).
	CodeAutopilotDisabled = "autopilot_disabled"
	// Data plane.
	CodeCellDown        = "cell_down"
	CodeProjectCellDown = "project_cell_down"
	// CodeQuotaExceeded: a create would take the project over a limit (403, as Nova).
	CodeQuotaExceeded  = "quota_exceeded"
	CodeNoValidHost    = "no_valid_host"
	CodeMarkerNotFound = "marker_not_found"
	// CodeHostMappingExists: a concurrent discover_hosts mapped a host first.
	CodeHostMappingExists = "host_mapping_exists"
	// Codes of the ACL.
	CodeUnauthenticated        = "unauthenticated"
	CodeForbidden              = "forbidden"
	CodeACLAlreadyBootstrapped = "acl_already_bootstrapped"
	// Codes of the gossip keyring: the pool gossips in the clear (no keyring to change), or a
	// key to use is missing on some member.
	CodeGossipNotEncrypted = "gossip_not_encrypted"
	CodeKeyNotEverywhere   = "key_not_everywhere"
	// Codes of the change stream: the history no longer holds since (relist), and a watcher
	// that could not keep up was cut.
	CodeCompacted    = "compacted"
	CodeSlowConsumer = "slow_consumer"
)

// Status is the HTTP status that goes with a code: one list for every service that answers
// with these codes (the API, the node-to-node protocol, the conductors).
func Status(code string) int {
	switch code {
	case CodeBadRequest, CodeInvalid, CodeMarkerNotFound, CodeMemberUnreachable:
		return http.StatusBadRequest
	case CodeNotFound, CodeUnknownCell, CodeUnknownServer, CodeNoSuchEndpoint:
		return http.StatusNotFound
	case CodeAutopilotDisabled:
		return http.StatusNotFound
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case CodeAlreadyExists, CodeCellMismatch, CodeDuplicateURL, CodeCell0Immutable, CodeHostsMapped,
		CodeInstancesExist, CodeDeletedInstancesMapped, CodeNoValidHost, CodeHostMappingExists,
		CodeMemberExists, CodeQuorumAtRisk, CodeACLAlreadyBootstrapped, CodeGossipNotEncrypted, CodeKeyNotEverywhere:
		return http.StatusConflict
	case CodeUnauthenticated:
		return http.StatusUnauthorized
	case CodeForbidden, CodeQuotaExceeded:
		return http.StatusForbidden
	case CodeCompacted:
		return http.StatusGone
	case CodeRevisionMismatch:
		return http.StatusPreconditionFailed
	case CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeNotLeader:
		return http.StatusMisdirectedRequest
	case CodeOutcomeUnknown, CodeNoLeader, CodeBusy, CodeUnavailable, CodeStale, CodeCellDown, CodeProjectCellDown,
		CodeUnsupportedVersion:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Errors of the cell conductor's API: package conductor returns them and answers them with
// their codes; its client (package cellproxy) turns the codes back into them. The API tier's
// own errors are its packages' (fsm, node, cellproxy); the conductor is another process.
var (
	// ErrNotFound: no such instance (or it is deleted and deleted ones were not asked for), or
	// no such compute host.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: the compute host is registered already, or the instance uuid belongs to
	// a deleted instance.
	ErrAlreadyExists = errors.New("already exists")
	// ErrNoValidHost: no enabled compute host has room for the flavor; nothing was written.
	ErrNoValidHost = errors.New("no valid host")
	// ErrMarkerNotFound: the list marker is not an instance of the cell.
	ErrMarkerNotFound = errors.New("marker not found")
	// ErrInvalid: the request is malformed or out of range (every failure of package validate
	// matches it).
	ErrInvalid = validate.ErrInvalid
)

// conductorCodes is the one table of the conductor API's errors and their codes.
var conductorCodes = []struct {
	err  error
	code string
}{
	{ErrInvalid, CodeInvalid},
	{ErrMarkerNotFound, CodeMarkerNotFound},
	{ErrNotFound, CodeNotFound},
	{ErrAlreadyExists, CodeAlreadyExists},
	{ErrNoValidHost, CodeNoValidHost},
}

// ConductorCode returns the code of a conductor API error, or "" when err is not one.
func ConductorCode(err error) string {
	for _, c := range conductorCodes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return ""
}

// ConductorError returns the conductor API error of code, or nil when code is not one's.
func ConductorError(code string) error {
	for _, c := range conductorCodes {
		if c.code == code {
			return c.err
		}
	}
	return nil
}
