package compute

import (
	"context"
	"net/http"
	"strings"
)

// The compute API on a listener of its own (cellmapd --compute-addr), as nova-api serves it on
// port 8774: its paths are the API's without the prefix ("/", "/v2.1/servers", ...), and the
// links it writes name that listener. Everything else on that listener is a 404.

// rootKey marks a request that arrived on the compute listener (context value).
type rootKey struct{}

// RootHandler serves the compute API at the root of a listener through api, the node's API
// handler (so tokens, roles, audit and metrics are the same as on the API port): it maps "/"
// and "/v2.1..." (and "/v2...") to their place under the prefix and answers any other path
// with Nova's 404 fault.
func (s *Service) RootHandler(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p != "/" && p != "/v2" && p != "/v2.1" && !strings.HasPrefix(p, "/v2/") && !strings.HasPrefix(p, "/v2.1/") {
			writeJSON(w, http.StatusNotFound, faultBody(http.StatusNotFound, "The resource could not be found."))
			return
		}
		if p == "/v2" || strings.HasPrefix(p, "/v2/") { // Nova serves v2.1 under /v2 as well
			p = "/v2.1" + strings.TrimPrefix(p, "/v2")
		}
		r2 := r.WithContext(context.WithValue(r.Context(), rootKey{}, true))
		u := *r.URL
		u.Path, u.RawPath = s.cfg.Prefix+p, ""
		r2.URL = &u
		r2.RequestURI = u.RequestURI()
		api.ServeHTTP(w, r2)
	})
}

// prefixOf is where the API's links start for r: "" on the compute listener, else the prefix.
func (s *Service) prefixOf(r *http.Request) string {
	if root, _ := r.Context().Value(rootKey{}).(bool); root {
		return ""
	}
	return s.cfg.Prefix
}
