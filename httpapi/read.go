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
)

// Shared header values (never modified after a response is written).
var (
	staleValue        = []string{api.Stale}
	linearizableValue = []string{api.Linearizable}
	boolValues        = map[bool][]string{true: {"true"}, false: {"false"}}
	jsonContentType   = []string{"application/json"}
)

// readOpts are the consistency parameters of a read.
type readOpts struct {
	stale    bool
	maxStale time.Duration
}

func parseReadOpts(q url.Values) (readOpts, error) {
	var o readOpts
	switch q.Get("consistency") {
	case "", api.Linearizable:
	case api.Stale:
		o.stale = true
	default:
		return o, invalidf("consistency must be %q or %q", api.Linearizable, api.Stale)
	}
	if v := q.Get("max_stale"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return o, invalidf("max_stale must be a positive duration such as 500ms or 5s")
		}
		if !o.stale {
			return o, invalidf("max_stale applies to consistency=stale only")
		}
		o.maxStale = d
	}
	return o, nil
}

// barrier prepares a read at the requested consistency. A stale read older than max_stale is
// served linearizably instead.
func (s *Service) barrier(w http.ResponseWriter, r *http.Request) bool {
	return s.barrierQ(w, r, r.URL.Query())
}

// barrierQ is barrier for an already parsed query.
func (s *Service) barrierQ(w http.ResponseWriter, r *http.Request, q url.Values) bool {
	o, err := parseReadOpts(q)
	if err != nil {
		s.failErr(w, err)
		return false
	}
	if o.stale {
		info := s.node.Staleness()
		h := w.Header()
		h[api.HeaderKnownLeader] = boolValues[info.KnownLeader]
		if o.maxStale == 0 || info.LastContact <= o.maxStale {
			h[api.HeaderConsistency] = staleValue
			h[api.HeaderLastContact] = []string{strconv.FormatInt(info.LastContact.Milliseconds(), 10)}
			return true
		}
	}
	if err := s.node.LinearizableBarrier(r.Context()); err != nil {
		s.failErr(w, err)
		return false
	}
	w.Header()[api.HeaderConsistency] = linearizableValue
	return true
}

// read serves a read: barrier, then fn in one read transaction, then the JSON answer.
func (s *Service) read(w http.ResponseWriter, r *http.Request, fn func(rd *fsm.Reader) (any, error)) {
	if !s.barrier(w, r) {
		return
	}
	var out any
	var index uint64
	err := s.node.FSM().View(func(rd *fsm.Reader) error {
		index = rd.AppliedIndex()
		var err error
		out, err = fn(rd)
		return err
	})
	if err != nil {
		s.failErr(w, err)
		return
	}
	s.reply(w, http.StatusOK, index, out)
}

// putOne applies one (possibly conditional) put and answers with the record as now stored.
func (s *Service) putOne(w http.ResponseWriter, r *http.Request, op fsm.Op, status int) {
	res, ok := s.applied(w, r, &fsm.Txn{Ops: []fsm.Op{op}}, op.IfRevision != 0 || op.IfAbsent)
	if !ok {
		return
	}
	s.replyWritten(w, status, res)
}

// replyWritten answers a write with the record it stored, straight from the apply result: no
// second read, and a follower need not wait for its own apply.
func (s *Service) replyWritten(w http.ResponseWriter, status int, res *fsm.Result) {
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
		s.reply(w, status, res.Index, s.cellView(rec, false))
	case *fsm.Flavor:
		s.reply(w, status, res.Index, cellproxy.FlavorOut(rec))
	default:
		s.fail(w, http.StatusInternalServerError, api.CodeInternal, fmt.Sprintf("write at index %d returned no record", res.Index))
	}
}
