package conductor

import (
	"net/http"
	"time"

	"github.com/cellmap/cellmap/internal/requestid"
	"github.com/gorilla/mux"
)

// withRequestID gives every request an id (the caller's X-Request-Id when valid: the API
// tier sends the id of the request that led to the call), answers it in X-Request-Id, and
// logs the request with it at debug level.
func (c *Conductor) withRequestID(next http.Handler) http.Handler {
	log := c.logger.Named("http")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rid := requestid.Of(r)
		w.Header().Set(requestid.Header, rid)
		r = r.WithContext(requestid.With(r.Context(), rid))
		if !log.IsDebug() {
			next.ServeHTTP(w, r)
			return
		}
		start, sw := time.Now(), &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.URL.Path
		if cr := mux.CurrentRoute(r); cr != nil {
			if tpl, err := cr.GetPathTemplate(); err == nil {
				route = tpl
			}
		}
		log.Debug("request", "method", r.Method, "route", route, "status", sw.status, "duration", time.Since(start), requestid.LogKey, rid)
	})
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
