package httpapi

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// Shared header values (never modified after a response is written).
var (
	staleValue        = []string{api.Stale}
	linearizableValue = []string{api.Linearizable}
	boolValues        = map[bool][]string{true: {"true"}, false: {"false"}}
	jsonContentType   = []string{"application/json"}
)

// readConsistency parses the consistency parameters of a read.
func readConsistency(q url.Values) (node.Consistency, error) {
	stale := false
	switch q.Get("consistency") {
	case "", api.Linearizable:
	case api.Stale:
		stale = true
	default:
		return nil, invalidf("consistency must be %q or %q", api.Linearizable, api.Stale)
	}
	var maxStale time.Duration
	if v := q.Get("max_stale"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, invalidf("max_stale must be a positive duration such as 500ms or 5s")
		}
		if !stale {
			return nil, invalidf("max_stale applies to consistency=stale only")
		}
		maxStale = d
	}
	if stale {
		return node.Stale{MaxStale: maxStale}, nil
	}
	return node.Linearizable{}, nil
}

// view runs fn on one view of the state at the consistency the query asks for (a stale read
// older than max_stale is served linearizably) and says in the headers how the read was
// served. It answers a failure itself; it returns the index of the view.
func (s *Service) view(w http.ResponseWriter, r *http.Request, q url.Values, fn func(rd *fsm.Reader) error) (uint64, bool) {
	c, err := readConsistency(q)
	if err != nil {
		s.failErr(w, err)
		return 0, false
	}
	if err := s.block(r, q); err != nil {
		s.failErr(w, err)
		return 0, false
	}
	info, err := s.node.Read(r.Context(), c, fn)
	h := w.Header()
	if _, ok := c.(node.Stale); ok {
		h[api.HeaderKnownLeader] = boolValues[info.KnownLeader]
	}
	switch info.Served.(type) {
	case node.Stale:
		h[api.HeaderConsistency] = staleValue
		h[api.HeaderLastContact] = []string{strconv.FormatInt(info.LastContact.Milliseconds(), 10)}
	case node.Linearizable:
		h[api.HeaderConsistency] = linearizableValue
	}
	if err != nil {
		s.failErr(w, err)
		return 0, false
	}
	return info.Index, true
}

// read serves a read: fn's answer, from one view of the state, as JSON.
func (s *Service) read(w http.ResponseWriter, r *http.Request, fn func(rd *fsm.Reader) (any, error)) {
	var out any
	index, ok := s.view(w, r, r.URL.Query(), func(rd *fsm.Reader) error {
		var err error
		out, err = fn(rd)
		return err
	})
	if ok {
		s.reply(w, http.StatusOK, index, out)
	}
}

// putOne applies one (possibly conditional) put and answers with the record as now stored.
func (s *Service) putOne(w http.ResponseWriter, r *http.Request, op fsm.Op, status int) {
	res, ok := s.applied(w, r, &fsm.Txn{Ops: []fsm.Op{op}}, op.IfRevision != 0 || op.IfAbsent)
	if !ok {
		return
	}
	s.replyWritten(w, r, status, res)
}

// replyWritten answers a write with the record it stored, straight from the apply result: no
// second read, and a follower need not wait for its own apply.
func (s *Service) replyWritten(w http.ResponseWriter, r *http.Request, status int, res *fsm.Result) {
	switch rec := res.Record.(type) {
	case *fsm.InstanceMapping:
		buf := bufPool.Get().(*bytes.Buffer)
		defer bufPool.Put(buf)
		buf.Reset()
		buf.Write(appendInstanceMapping(buf.AvailableBuffer(), rec))
		s.replyJSON(w, status, res.Index, buf.Bytes())
	case *fsm.HostMapping:
		s.reply(w, status, res.Index, hostOut(rec))
	case *fsm.Cell:
		s.reply(w, status, res.Index, s.cellView(IdentityFrom(r.Context()), rec, false))
	case *fsm.Flavor:
		s.reply(w, status, res.Index, cellproxy.FlavorOut(rec))
	case *fsm.Image:
		s.reply(w, status, res.Index, ImageOut(rec))
	default:
		s.fail(w, http.StatusInternalServerError, api.CodeInternal, fmt.Sprintf("write at index %d returned no record", res.Index))
	}
}
