package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/gorilla/mux"
)

// Route is a route another package serves on the API (the OpenStack compute API, package
// compute): the guard authenticates and authorizes it for Perm like every route of its own.
type Route struct {
	Method  string
	Path    string
	Perm    acl.Perm
	Handler http.HandlerFunc
}

// Mount is a set of routes with an error format of its own. Refuse writes its 401 and 403
// answers (err wraps acl.ErrUnauthenticated or acl.ErrForbidden, or is a node error); nil
// keeps the API's own error body.
type Mount struct {
	Routes []Route
	Refuse func(w http.ResponseWriter, r *http.Request, status int, err error)
}

// mountRoutes registers every route of the configured mounts, each with its permission.
func (s *Service) mountRoutes(r *mux.Router) {
	for _, m := range s.cfg.Mounts {
		for _, rt := range m.Routes {
			name := rt.Method + " " + rt.Path
			s.perms[name] = rt.Perm
			h := s.guardWith(rt.Perm, rt.Handler, m.Refuse)
			r.Handle(rt.Path, s.audited(rt.Path, s.withIndex(h))).Methods(rt.Method).Name(name)
		}
	}
}

// guardWith authenticates and authorizes a request for perm before h runs; a refused request
// changes nothing: 401 unauthenticated (with WWW-Authenticate) or 403 forbidden, answered by
// refuse when set, else with the API's error body.
func (s *Service) guardWith(perm acl.Perm, h http.HandlerFunc, refuse func(http.ResponseWriter, *http.Request, int, error)) http.HandlerFunc {
	if perm == acl.PermPublic {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := s.authenticate(r)
		if err == nil && id == nil {
			err = fmt.Errorf("%w: this endpoint needs a token (Authorization: Bearer, or X-Auth-Token)", acl.ErrUnauthenticated)
		}
		setSubject(r.Context(), id)
		if err == nil {
			err = id.Authorize(perm)
		}
		switch {
		case err == nil:
			s.setLeader(w)
			h(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
		case refuse == nil:
			s.authFailed(w, err)
		case errors.Is(err, acl.ErrUnauthenticated):
			w.Header().Set("WWW-Authenticate", `Bearer realm="cellmap"`)
			refuse(w, r, http.StatusUnauthorized, err)
		case errors.Is(err, acl.ErrForbidden):
			refuse(w, r, http.StatusForbidden, err)
		default:
			status, _ := errorStatus(err)
			refuse(w, r, status, err)
		}
	}
}

// withIndex answers X-Cellmap-Index on a mounted route, as every answer of the API does: the
// index this node had applied when the answer was written.
func (s *Service) withIndex(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h(&indexWriter{ResponseWriter: w, index: s.node.AppliedIndex}, r)
	}
}

// indexWriter sets X-Cellmap-Index when the status is written.
type indexWriter struct {
	http.ResponseWriter
	index   func() uint64
	written bool
}

func (w *indexWriter) WriteHeader(code int) {
	if !w.written {
		w.written = true
		w.Header().Set(api.HeaderIndex, strconv.FormatUint(w.index(), 10))
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *indexWriter) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}
