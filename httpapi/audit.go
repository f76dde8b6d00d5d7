package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/internal/audit"
	"github.com/cellmap/cellmap/internal/requestid"
	"github.com/cellmap/cellmap/internal/statuswriter"
)

// Auditor records audit log lines (an *audit.Log).
type Auditor interface {
	Record(e audit.Entry) error
}

// HeaderRequestID carries the request id, answered on every response (a well-formed one the
// client sent is kept: requestid.Valid).
const HeaderRequestID = requestid.Header

type subjectKey struct{}

// subject is filled by guard with who the request acts as, for the audit line written after it.
type subject struct{ id *acl.Identity }

// setSubject records the identity for the audit line of the request (when audited).
func setSubject(ctx context.Context, id *acl.Identity) {
	if s, ok := ctx.Value(subjectKey{}).(*subject); ok {
		s.id = id
	}
}

// audited gives the request its id (X-Request-Id, answered, and carried by its context to
// the forwarded write and the conductor calls), logs it at debug level, and writes the audit
// line of route after h: for every write (POST, PUT, PATCH, DELETE) and every refused request
// (401, 403). route is the route's template, never the raw path or its query.
func (s *Service) audited(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rid := requestid.Of(r)
		w.Header().Set(HeaderRequestID, rid)
		r = r.WithContext(requestid.With(r.Context(), rid))
		debug := s.logger.IsDebug()
		if s.cfg.Audit == nil && !debug {
			h.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sub := &subject{}
		sw := &statuswriter.Writer{ResponseWriter: w}
		h.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), subjectKey{}, sub)))
		if debug {
			s.logger.Debug("request", "method", r.Method, "route", route, "status", sw.Status,
				"duration", time.Since(start), requestid.LogKey, rid)
		}
		if s.cfg.Audit != nil {
			s.audit(r, route, rid, sw.Status, sub)
		}
	})
}

// audit writes the audit line of a request that is a write or was refused.
func (s *Service) audit(r *http.Request, route, rid string, status int, sub *subject) {
	write := r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch || r.Method == http.MethodDelete
	write = write && route != watchPath // POST /v1/watch reads: its body is a query
	if !write && status != http.StatusUnauthorized && status != http.StatusForbidden {
		return
	}
	e := audit.Entry{Time: time.Now().UTC(), RequestID: rid, Method: r.Method, Path: route, Status: status, RemoteAddr: r.RemoteAddr}
	if id := sub.id; id != nil {
		e.AccessorID, e.Node = id.AccessorID, id.Node
		if id.Role != acl.RoleNone {
			e.Role = id.Role.String()
		}
	}
	if err := s.cfg.Audit.Record(e); err != nil {
		s.logger.Error("cannot write the audit log", "error", err)
	}
}
