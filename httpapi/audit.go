package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/internal/audit"
)

// Auditor records audit log lines (an *audit.Log).
type Auditor interface {
	Record(e audit.Entry) error
}

// HeaderRequestID carries the request id, answered on every response (a well-formed one the
// client sent is kept).
const HeaderRequestID = "X-Request-Id"

type subjectKey struct{}

// subject is filled by guard with who the request acts as, for the audit line written after it.
type subject struct{ id *acl.Identity }

// setSubject records the identity for the audit line of the request (when audited).
func setSubject(ctx context.Context, id *acl.Identity) {
	if s, ok := ctx.Value(subjectKey{}).(*subject); ok {
		s.id = id
	}
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush lets streaming handlers flush through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// requestID returns the client's X-Request-Id when it is short and printable, else a new one.
func requestID(r *http.Request) string {
	if id := r.Header.Get(HeaderRequestID); id != "" && len(id) <= 64 {
		ok := true
		for i := 0; i < len(id) && ok; i++ {
			ok = id[i] > 0x20 && id[i] < 0x7f
		}
		if ok {
			return id
		}
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "req-" + hex.EncodeToString(b[:])
}

// audited writes the audit line of route after h: for every write (POST, PUT, PATCH, DELETE)
// and every refused request (401, 403). route is the route's template, never the raw path or
// its query.
func (s *Service) audited(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rid := requestID(r)
		w.Header().Set(HeaderRequestID, rid)
		if s.cfg.Audit == nil {
			h.ServeHTTP(w, r)
			return
		}
		sub := &subject{}
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), subjectKey{}, sub)))
		write := r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch || r.Method == http.MethodDelete
		if !write && sw.status != http.StatusUnauthorized && sw.status != http.StatusForbidden {
			return
		}
		e := audit.Entry{Time: time.Now().UTC(), RequestID: rid, Method: r.Method, Path: route, Status: sw.status, RemoteAddr: r.RemoteAddr}
		if id := sub.id; id != nil {
			e.AccessorID, e.Node = id.AccessorID, id.Node
			if id.Role != acl.RoleNone {
				e.Role = id.Role.String()
			}
		}
		if err := s.cfg.Audit.Record(e); err != nil {
			s.logger.Error("cannot write the audit log", "error", err)
		}
	})
}
