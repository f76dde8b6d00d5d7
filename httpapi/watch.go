package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// The change stream, GET /v1/watch: the event history of the node's applied state (package
// fsm, events.go) after ?since=, as newline-delimited api.WatchEvents in revision order, then
// every new change as the node applies it, with a progress line at least every
// ?progress_interval= (default 10s) saying how far the stream has got even when nothing
// matched. Any node serves it from its own state; ?consistency=linearizable first catches up
// with the leader's commit index. Secrets of cells are masked below operator, and a
// project-scoped token sees only its project's instance mappings.
//
// Live changes come from the node's fan-out hub (package watch, watchstream.go): a watcher
// reads the state file only while it catches up from an older revision. The node serves at
// most --watch-max-watchers streams (one more is refused with 503 busy and Retry-After), and
// a watcher more than --watch-buffer matching events behind is cut with a final
// slow_consumer error line.
const (
	watchPath               = "/v1/watch"
	defaultProgressInterval = 10 * time.Second
	// watchBatch bounds the events sent from one read transaction (whole revisions).
	watchBatch = 1000
)

// watchQuery is a parsed watch request.
type watchQuery struct {
	kinds        map[string]bool
	since        uint64
	sinceGiven   bool
	project      string
	cell         string
	linearizable bool
	progress     time.Duration
}

func parseWatch(r *http.Request) (*watchQuery, error) {
	v := r.URL.Query()
	wq := &watchQuery{kinds: map[string]bool{}, progress: defaultProgressInterval, project: v.Get("project_id")}
	if err := parseWatchKinds(v, wq); err != nil {
		return nil, err
	}
	if s := v.Get("since"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, invalidf("since must be a non-negative integer (a revision)")
		}
		wq.since, wq.sinceGiven = n, true
	}
	if err := validate.Name("project_id", wq.project, false); err != nil {
		return nil, err
	}
	if c := v.Get("cell_uuid"); c != "" {
		var err error
		if wq.cell, err = validate.UUID("cell_uuid", c); err != nil {
			return nil, err
		}
	}
	switch v.Get("consistency") {
	case "", api.Stale:
	case api.Linearizable:
		wq.linearizable = true
	default:
		return nil, invalidf("consistency must be %q or %q", api.Linearizable, api.Stale)
	}
	if p := v.Get("progress_interval"); p != "" {
		d, err := time.ParseDuration(p)
		if err != nil || d < 10*time.Millisecond || d > 10*time.Minute {
			return nil, invalidf("progress_interval must be a duration from 10ms to 10m")
		}
		wq.progress = d
	}
	if p := scopedProject(r); p != "" {
		if wq.project != "" && wq.project != p {
			return nil, fmt.Errorf("%w: this token sees only project %s", errForbiddenScope, p)
		}
		wq.project = p
	}
	return wq, nil
}

var errForbiddenScope = errors.New("forbidden")

func parseWatchKinds(v url.Values, wq *watchQuery) error {
	all := fsm.EventKinds()
	ks := v.Get("kinds")
	if ks == "" {
		ks = strings.Join(all, ",")
	}
	for _, k := range strings.Split(ks, ",") {
		if !slices.Contains(all, k) {
			return invalidf("unknown kind %q in kinds (known: %s)", k, strings.Join(all, ", "))
		}
		wq.kinds[k] = true
	}
	return nil
}

// matches applies the filters. A project filter (or a scoped token) passes instance mappings
// of the project only; a cell filter passes the cell itself and the mappings in it.
func (wq *watchQuery) matches(ev *fsm.Event) bool {
	if !wq.kinds[ev.Kind] {
		return false
	}
	if wq.project != "" {
		m, ok := ev.Record.(*fsm.InstanceMapping)
		if !ok || m.ProjectID != wq.project {
			return false
		}
	}
	if wq.cell != "" {
		switch rec := ev.Record.(type) {
		case *fsm.InstanceMapping:
			return rec.CellUUID == wq.cell
		case *fsm.HostMapping:
			return rec.CellUUID == wq.cell
		case *fsm.Cell:
			return rec.UUID == wq.cell
		default:
			return false
		}
	}
	return true
}

func (s *Service) watch(w http.ResponseWriter, r *http.Request) {
	wq, err := parseWatch(r)
	if errors.Is(err, errForbiddenScope) {
		s.fail(w, http.StatusForbidden, api.CodeForbidden, err.Error())
		return
	}
	if err != nil {
		s.failErr(w, err)
		return
	}
	hub := s.watchHub()
	if err := hub.Acquire(); err != nil {
		w.Header().Set("Retry-After", "1")
		s.fail(w, http.StatusServiceUnavailable, api.CodeBusy, fmt.Sprintf("this node serves %d change streams already (--watch-max-watchers); try another node or later", hub.Config().MaxWatchers))
		return
	}
	handedOff := false
	defer func() {
		if !handedOff {
			hub.Release()
		}
	}()
	if wq.linearizable {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		_, err := s.node.Read(ctx, node.Linearizable{}, func(*fsm.Reader) error { return nil })
		cancel()
		if err != nil {
			s.failErr(w, err)
			return
		}
	}
	var compacted, applied uint64
	if _, err := s.node.Read(r.Context(), node.Stale{}, func(rd *fsm.Reader) error {
		compacted, applied = rd.Compacted(), rd.AppliedIndex()
		return nil
	}); err != nil {
		s.failErr(w, err)
		return
	}
	if !wq.sinceGiven {
		wq.since = applied
	}
	if wq.since < compacted {
		w.Header().Set(api.HeaderCompacted, strconv.FormatUint(compacted, 10))
		s.fail(w, http.StatusGone, api.CodeCompacted, fmt.Sprintf("revision %d is compacted: this node serves since=%d or later; list again and watch from the list's index", wq.since, compacted))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set(api.HeaderIndex, strconv.FormatUint(applied, 10))
	w.WriteHeader(http.StatusOK)
	handedOff = s.streamWatch(w, r, wq)
}

// watchEvent renders an event; cells are masked as the cells endpoints mask them (ident
// matters for that alone: events render alike for every identity of one SeesSecrets).
func (s *Service) watchEvent(ident *acl.Identity, ev *fsm.Event) api.WatchEvent {
	out := api.WatchEvent{Type: api.WatchTypeEvent, Revision: ev.Revision, Sub: ev.Sub, Kind: ev.Kind, Op: ev.Op.String(), Key: ev.Key}
	var rec any
	switch v := ev.Record.(type) {
	case *fsm.InstanceMapping:
		rec = InstanceMappingOut(v)
	case *fsm.HostMapping:
		rec = hostOut(v)
	case *fsm.Cell:
		rec = s.cellView(ident, v, false)
	case *fsm.Flavor:
		rec = cellproxy.FlavorOut(v)
	case *fsm.Image:
		rec = ImageOut(v)
	case *fsm.Aggregate:
		rec = aggregateOut(v)
	case *fsm.ServerGroup:
		rec = cellproxy.ServerGroupOut(v, nil) // every member the record holds
	case *fsm.QuotaUsage:
		rec = api.QuotaRecord{ProjectID: v.ProjectID, Values: quotaValues(v.QuotaSet)}
	case *fsm.QuotaLimit:
		rec = api.QuotaRecord{ProjectID: v.ProjectID, Values: quotaValues(v.QuotaSet)}
	}
	out.Record, _ = json.Marshal(rec)
	return out
}
