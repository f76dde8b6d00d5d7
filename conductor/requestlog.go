package conductor

import (
	"net/http"
	"time"

	"github.com/cellmap/cellmap/internal/requestid"
	"github.com/cellmap/cellmap/internal/statuswriter"
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
		start, sw := time.Now(), &statuswriter.Writer{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.URL.Path
		if cr := mux.CurrentRoute(r); cr != nil {
			if tpl, err := cr.GetPathTemplate(); err == nil {
				route = tpl
			}
		}
		log.Debug("request", "method", r.Method, "route", route, "status", sw.Status, "duration", time.Since(start), requestid.LogKey, rid)
	})
}
