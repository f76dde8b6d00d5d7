package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/cellurl"
	"github.com/gorilla/mux"
)

// pathUUID reads and checks the {uuid} path variable.
func pathUUID(r *http.Request) (string, error) { return validate.UUID("uuid", mux.Vars(r)["uuid"]) }

// checkTransportURL applies Nova's check of a transport URL (after template expansion with
// this server's base): a scheme, and an integer port on every host that has one.
func checkTransportURL(raw, base string) error {
	if raw == "" {
		return invalidf("transport_url is required")
	}
	if len(raw) > 4096 {
		return invalidf("transport_url is longer than 4096 bytes")
	}
	u := cellurl.Expand(raw, base)
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok || scheme == "" {
		return invalidf("invalid transport URL %q: no scheme", raw)
	}
	netloc := rest
	if i := strings.IndexAny(netloc, "/?#"); i >= 0 {
		netloc = netloc[:i]
	}
	for _, piece := range strings.Split(netloc, ",") {
		hostport := piece[strings.LastIndexByte(piece, '@')+1:]
		if strings.HasPrefix(hostport, "[") {
			if i := strings.IndexByte(hostport, ']'); i >= 0 {
				hostport = hostport[i+1:]
			}
		}
		if _, port, found := strings.Cut(hostport, ":"); found && port != "" {
			if _, err := strconv.ParseUint(port, 10, 16); err != nil && !cellurl.IsTemplate(port) {
				return invalidf("invalid transport URL %q: port %q is not an integer", raw, port)
			}
		}
	}
	return nil
}

// checkDatabaseConnection is Nova's check: present.
func checkDatabaseConnection(raw string) error {
	if raw == "" {
		return invalidf("database_connection is required")
	}
	if len(raw) > 4096 {
		return invalidf("database_connection is longer than 4096 bytes")
	}
	return nil
}

// queryLimit parses limit (default def, 1..max).
func queryLimit(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, invalidf("limit must be an integer from 1 to %d", max)
	}
	return n, nil
}

// queryBool parses a boolean query parameter (absent is false).
func queryBool(r *http.Request, name string) (bool, error) { return boolParam(r.URL.Query(), name) }

// boolParam parses a boolean parameter of a parsed query (absent is false).
func boolParam(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, invalidf("%s must be true or false", name)
	}
	return b, nil
}

// conditions reads If-Match (a revision) and If-None-Match (only "*").
func conditions(r *http.Request) (ifRevision uint64, ifAbsent bool, err error) {
	if v := r.Header.Get("If-Match"); v != "" {
		v = strings.Trim(strings.TrimSpace(v), `"`)
		ifRevision, err = strconv.ParseUint(v, 10, 64)
		if err != nil || ifRevision == 0 {
			return 0, false, invalidf("If-Match must be a revision number")
		}
	}
	if v := r.Header.Get("If-None-Match"); v != "" {
		if strings.TrimSpace(v) != "*" {
			return 0, false, invalidf(`If-None-Match supports only "*"`)
		}
		ifAbsent = true
	}
	if ifRevision != 0 && ifAbsent {
		return 0, false, invalidf("If-Match and If-None-Match exclude each other")
	}
	return ifRevision, ifAbsent, nil
}
