package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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
// POST /v1/watch (watchmany.go) serves many watches on one stream, each with its own filters
// and since, their lines carrying the watch's id: one goroutine and one write per wake for
// all of them, where a stream each costs one of each per watch.
//
// Live changes come from the node's fan-out hub (package watch, watchstream.go): a watcher
// reads the state file only while it catches up from an older revision. The node serves at
// most --watch-max-watchers watches (a stream beyond that is refused with 503 busy and
// Retry-After), and a stream more than --watch-buffer matching events behind is cut with a
// final slow_consumer error line (one per watch).
const (
	watchPath               = "/v1/watch"
	defaultProgressInterval = 10 * time.Second
	// watchBatch bounds the lines sent from one read transaction (whole revisions).
	watchBatch = 1000
)

// watchRequest is a parsed watch request: its watches and what they share.
type watchRequest struct {
	watches      []*watchOne
	linearizable bool
	progress     time.Duration
	// many is a POST stream: a since the node no longer serves ends that watch alone.
	many bool
}

// watchOne is one watch of a stream: its filters and where it starts.
type watchOne struct {
	// id names the watch on a POST stream; prefix opens each of its lines ({"watch_id":...,).
	id     string
	prefix []byte
	kinds  map[string]bool
	// since: the watch sends changes after it; sinceGiven false starts at the applied index.
	since      uint64
	sinceGiven bool
	project    string
	cell       string
	// done: the watch has had its final error line.
	done bool
}

func parseWatch(r *http.Request) (*watchRequest, error) {
	v := r.URL.Query()
	var kinds []string
	if ks := v.Get("kinds"); ks != "" {
		kinds = strings.Split(ks, ",")
	}
	wo := &watchOne{}
	if s := v.Get("since"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, invalidf("since must be a non-negative integer (a revision)")
		}
		wo.since, wo.sinceGiven = n, true
	}
	if err := wo.filters(r, kinds, v.Get("project_id"), v.Get("cell_uuid")); err != nil {
		return nil, err
	}
	wr := &watchRequest{watches: []*watchOne{wo}}
	return wr, wr.options(v.Get("consistency"), v.Get("progress_interval"))
}

// options parses what the watches of a request share.
func (wr *watchRequest) options(consistency, progress string) error {
	switch consistency {
	case "", api.Stale:
	case api.Linearizable:
		wr.linearizable = true
	default:
		return invalidf("consistency must be %q or %q", api.Linearizable, api.Stale)
	}
	wr.progress = defaultProgressInterval
	if progress != "" {
		d, err := time.ParseDuration(progress)
		if err != nil || d < 10*time.Millisecond || d > 10*time.Minute {
			return invalidf("progress_interval must be a duration from 10ms to 10m")
		}
		wr.progress = d
	}
	return nil
}

// filters parses a watch's filters; a project-scoped token's project is always one.
func (wo *watchOne) filters(r *http.Request, kinds []string, project, cell string) error {
	all := fsm.EventKinds()
	if len(kinds) == 0 {
		kinds = all
	}
	wo.kinds = make(map[string]bool, len(kinds))
	for _, k := range kinds {
		if !slices.Contains(all, k) {
			return invalidf("unknown kind %q in kinds (known: %s)", k, strings.Join(all, ", "))
		}
		wo.kinds[k] = true
	}
	if err := validate.Name("project_id", project, false); err != nil {
		return err
	}
	wo.project = project
	if cell != "" {
		var err error
		if wo.cell, err = validate.UUID("cell_uuid", cell); err != nil {
			return err
		}
	}
	if p := scopedProject(r); p != "" {
		if wo.project != "" && wo.project != p {
			return fmt.Errorf("%w: this token sees only project %s", errForbiddenScope, p)
		}
		wo.project = p
	}
	return nil
}

var errForbiddenScope = errors.New("forbidden")

// matches applies the filters. A project filter (or a scoped token) passes instance mappings
// of the project only; a cell filter passes the cell itself and the mappings in it.
func (wo *watchOne) matches(ev *fsm.Event) bool {
	if !wo.kinds[ev.Kind] {
		return false
	}
	if wo.project != "" {
		m, ok := ev.Record.(*fsm.InstanceMapping)
		if !ok || m.ProjectID != wo.project {
			return false
		}
	}
	if wo.cell != "" {
		switch rec := ev.Record.(type) {
		case *fsm.InstanceMapping:
			return rec.CellUUID == wo.cell
		case *fsm.HostMapping:
			return rec.CellUUID == wo.cell
		case *fsm.Cell:
			return rec.UUID == wo.cell
		default:
			return false
		}
	}
	return true
}

// wants reports whether the watch sends ev: it is open, ev is after its since and passes its
// filters.
func (wo *watchOne) wants(ev *fsm.Event) bool {
	return !wo.done && ev.Revision > wo.since && wo.matches(ev)
}

func (s *Service) watch(w http.ResponseWriter, r *http.Request) {
	wr, err := parseWatch(r)
	s.serveWatch(w, r, wr, err)
}

// serveWatch answers a parsed watch request (or its parse error) with its stream.
func (s *Service) serveWatch(w http.ResponseWriter, r *http.Request, wr *watchRequest, err error) {
	if errors.Is(err, errForbiddenScope) {
		s.fail(w, http.StatusForbidden, api.CodeForbidden, err.Error())
		return
	}
	if err != nil {
		s.failErr(w, err)
		return
	}
	hub := s.watchHub()
	n := len(wr.watches)
	if err := hub.AcquireN(n); err != nil {
		w.Header().Set("Retry-After", "1")
		s.fail(w, http.StatusServiceUnavailable, api.CodeBusy, fmt.Sprintf("this node cannot serve %d more watches (--watch-max-watchers %d); try another node or later", n, hub.Config().MaxWatchers))
		return
	}
	handedOff := false
	defer func() {
		if !handedOff {
			hub.ReleaseN(n)
		}
	}()
	applied, ok := s.watchStart(w, r, wr)
	if !ok {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set(api.HeaderIndex, strconv.FormatUint(applied, 10))
	w.WriteHeader(http.StatusOK)
	handedOff = s.streamWatch(w, r, wr)
}

// watchStart catches up with the leader when asked, starts the watches without a since at the
// applied index and answers a GET's since the node no longer serves with 410 compacted.
func (s *Service) watchStart(w http.ResponseWriter, r *http.Request, wr *watchRequest) (applied uint64, ok bool) {
	if wr.linearizable {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		_, err := s.node.Read(ctx, node.Linearizable{}, func(*fsm.Reader) error { return nil })
		cancel()
		if err != nil {
			s.failErr(w, err)
			return 0, false
		}
	}
	var compacted uint64
	if _, err := s.node.Read(r.Context(), node.Stale{}, func(rd *fsm.Reader) error {
		compacted, applied = rd.Compacted(), rd.AppliedIndex()
		return nil
	}); err != nil {
		s.failErr(w, err)
		return 0, false
	}
	for _, wo := range wr.watches {
		if !wo.sinceGiven {
			wo.since = applied
		}
	}
	if since := wr.watches[0].since; !wr.many && since < compacted {
		w.Header().Set(api.HeaderCompacted, strconv.FormatUint(compacted, 10))
		s.fail(w, http.StatusGone, api.CodeCompacted, fmt.Sprintf("revision %d is compacted: this node serves since=%d or later; list again and watch from the list's index", since, compacted))
		return 0, false
	}
	return applied, true
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
