package httpapi

import (
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
)

// Blocking queries, as Consul's: a GET of a record or a listing with ?index=N waits until a
// record of a kind its answer depends on changed at a raft index above N (or until ?wait=,
// default 5 minutes, at most 10, plus up to 1/16 of it at random so that many clients do not
// come back at once), then reads at the consistency the request asks for. N is normally the
// X-Cellmap-Index of the previous answer. The wait is local (the node's own applied state);
// the read after it is as fresh as the request says.
const (
	defaultBlockingWait = 5 * time.Minute
	maxBlockingWait     = 10 * time.Minute
)

// blockingKinds says which kinds of records the answer of a GET route depends on.
var blockingKinds = map[string][]string{
	"GET /v1/instance-mappings/{uuid}": {"instance_mappings", "cells"}, // with_cell embeds the cell
	"GET /v1/instance-mappings":        {"instance_mappings"},
	"GET /v1/cells":                    {"cells"},
	"GET /v1/cells/{uuid}":             {"cells"},
	"GET /v1/hosts":                    {"host_mappings", "cells"}, // cell names
	"GET /v1/hosts/{host}":             {"host_mappings"},
	"GET /v1/flavors":                  {"flavors"},
	"GET /v1/flavors/{id}":             {"flavors"},
	"GET /v1/images":                   {"images"},
	"GET /v1/images/{id}":              {"images"},
	"GET /v1/aggregates":               {"aggregates"},
	"GET /v1/aggregates/{id}":          {"aggregates"},
	"GET /v1/availability-zones":       {"aggregates", "host_mappings"},
	"GET /v1/server-groups":            {"server_groups", "instance_mappings"}, // live members
	"GET /v1/server-groups/{id}":       {"server_groups", "instance_mappings"},
	"GET /v1/quotas/{project}":         {"quota_usages", "quota_limits"},
	"GET /v1/quota-defaults":           {"quota_limits"},
}

// blockingParams parses ?index= and ?wait=; index 0 means no blocking.
func blockingParams(q url.Values) (index uint64, wait time.Duration, err error) {
	iv, wv := q.Get("index"), q.Get("wait")
	if iv == "" {
		if wv != "" {
			return 0, 0, invalidf("wait needs index")
		}
		return 0, 0, nil
	}
	if index, err = strconv.ParseUint(iv, 10, 64); err != nil {
		return 0, 0, invalidf("index must be a non-negative integer")
	}
	wait = defaultBlockingWait
	if wv != "" {
		if wait, err = time.ParseDuration(wv); err != nil || wait <= 0 {
			return 0, 0, invalidf("wait must be a positive duration such as 30s or 5m")
		}
		wait = min(wait, maxBlockingWait)
	}
	return index, wait, nil
}

// blockingLimit is the longest a request may block, with its jitter (0 when it does not).
func blockingLimit(r *http.Request) time.Duration {
	if r.Method != http.MethodGet || !strings.Contains(r.URL.RawQuery, "index=") {
		return 0
	}
	index, wait, err := blockingParams(r.URL.Query())
	if err != nil || index == 0 {
		return 0
	}
	return wait + wait/16
}

// block waits as a blocking query asks (see above); it returns at once without ?index=.
func (s *Service) block(r *http.Request, q url.Values) error {
	if !strings.Contains(r.URL.RawQuery, "index=") && !strings.Contains(r.URL.RawQuery, "wait=") {
		return nil // the lookup hot path pays one scan of the query string
	}
	index, wait, err := blockingParams(q)
	if err != nil || index == 0 {
		return err
	}
	var kinds []string
	if route := mux.CurrentRoute(r); route != nil {
		kinds = blockingKinds[route.GetName()]
	}
	if kinds == nil {
		return invalidf("this endpoint does not support blocking queries (index)")
	}
	wait += rand.N(wait/16 + 1)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		changed := s.node.Changed() // before the check: a change in between closes it
		for _, k := range kinds {
			if s.node.Modified(k) > index {
				return nil
			}
		}
		select {
		case <-changed:
		case <-timer.C:
			return nil
		case <-r.Context().Done():
			return nil // the read that follows answers the cancellation
		}
	}
}

// refuseBlocking answers 400 to a blocking query on a GET that does not serve them (its answer
// is not a record of the state, such as the conductors' server listings), rather than
// ignoring ?index= and answering at once.
func (s *Service) refuseBlocking(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.RawQuery; strings.Contains(q, "index=") || strings.Contains(q, "wait=") {
			if v := r.URL.Query(); v.Has("index") || v.Has("wait") {
				s.failErr(w, invalidf("this endpoint does not support blocking queries (index, wait)"))
				return
			}
		}
		h(w, r)
	}
}
