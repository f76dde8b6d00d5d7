package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
	"github.com/cellmap/cellmap/watch"
)

// watchStream is one change stream being served. It reads the state file's history while it
// catches up (cur nil), then follows the hub (cur set) until the client leaves, the service
// shuts down, or the watcher is cut.
type watchStream struct {
	s *Service
	// ctx bounds the stream's reads of the state; remote names the client in logs.
	ctx    context.Context
	remote string
	out    streamOut
	wq     *watchQuery
	ident  *acl.Identity
	// view and render are the identity's rendering of hub entries (watch.Entry.Line).
	view   int
	render func(*fsm.Event) []byte
	mask   uint32
	// last is the revision the client has every matching event of.
	last    uint64
	cur     *watch.Cursor
	pending []api.WatchEvent
	entries []*watch.Entry
}

// watchHub returns the node's fan-out hub, attaching it to the node's apply path at the first
// change stream: until someone watches, applying publishes nothing.
func (s *Service) watchHub() *watch.Hub {
	s.hubOnce.Do(func() { s.node.SetEventSink(s.hub) })
	return s.hub
}

// streamWatch serves the stream after wq.since. Over HTTP/1.1 it takes the connection over
// once the headers are out (streamconn.go) and serves it from a goroutine of its own, so an
// idle stream holds neither the server's buffers nor its deep handler stack; it then returns
// true and the stream releases its place in the hub when it ends.
func (s *Service) streamWatch(w http.ResponseWriter, r *http.Request, wq *watchQuery) bool {
	ident := IdentityFrom(r.Context())
	rc := http.NewResponseController(w)
	st := &watchStream{s: s, ctx: r.Context(), remote: r.RemoteAddr, out: &httpOut{w: w, rc: rc, timeout: s.cfg.WatchWriteTimeout, hold: wq.progress}, wq: wq, ident: ident,
		last: wq.since, mask: s.hub.Mask(slices.Collect(maps.Keys(wq.kinds)))}
	if ident.SeesSecrets() {
		st.view = 1
	}
	st.render = func(ev *fsm.Event) []byte {
		out := s.watchEvent(ident, ev)
		b, _ := json.Marshal(&out)
		return append(b, '\n')
	}
	if rc.Flush() != nil { // the headers: the client knows at once it is watching
		return false
	}
	if conn, _, err := rc.Hijack(); err == nil {
		st.out, st.ctx = newChunkedConn(conn, s.cfg.WatchWriteTimeout), context.WithoutCancel(r.Context())
		go func() {
			defer s.hub.Release()
			defer st.out.close()
			st.run()
		}()
		return true
	}
	st.run()
	return false
}

// run serves the stream until the client leaves, the service shuts down, or it is cut.
func (st *watchStream) run() {
	tick := time.NewTicker(st.wq.progress)
	defer tick.Stop()
	for {
		var wake <-chan struct{}
		var err error
		if st.cur == nil {
			wake, err = st.catchUp()
		} else {
			wake, err = st.follow()
		}
		if err != nil {
			return
		}
		if wake == nil { // more to read at once
			continue
		}
		select {
		case <-wake:
		case <-tick.C:
			if !st.out.alive() {
				return
			}
			if err := st.progress(); err != nil {
				return
			}
		case <-st.ctx.Done():
			return
		case <-st.s.closing:
			return
		}
	}
}

// errStreamEnd ends a stream after its final error line.
var errStreamEnd = errors.New("stream ended")

// catchUp sends one batch of the state file's history after last, then joins the hub when it
// holds the rest. It returns the channel to wait on, nil when more is to be read at once.
func (st *watchStream) catchUp() (<-chan struct{}, error) {
	changed := st.s.node.Changed()
	st.pending = st.pending[:0]
	full := false
	_, err := st.s.node.Read(st.ctx, node.Stale{}, func(rd *fsm.Reader) error {
		if c := rd.Compacted(); st.last < c {
			st.pending = append(st.pending, api.WatchEvent{Type: api.WatchTypeError, Revision: st.last, Code: api.CodeCompacted, Compacted: c,
				Message: fmt.Sprintf("the history moved past revision %d while this watcher was behind; list again", st.last)})
			return nil
		}
		end := rd.AppliedIndex()
		err := rd.Events(st.last, func(ev *fsm.Event) (bool, error) {
			if len(st.pending) >= watchBatch && ev.Revision != st.pending[len(st.pending)-1].Revision {
				full, end = true, st.pending[len(st.pending)-1].Revision
				return false, nil
			}
			if st.wq.matches(ev) {
				st.pending = append(st.pending, st.s.watchEvent(st.ident, ev))
			}
			return true, nil
		})
		st.last = max(st.last, end)
		return err
	})
	if err != nil {
		return nil, err
	}
	buf := getLineBuf()
	defer putLineBuf(buf)
	for i := range st.pending {
		b, _ := json.Marshal(&st.pending[i])
		*buf = append(append(*buf, b...), '\n')
		if st.pending[i].Type == api.WatchTypeError {
			_ = st.write(*buf)
			return nil, errStreamEnd
		}
	}
	if err := st.write(*buf); err != nil || full {
		return nil, err
	}
	if cur, ok := st.s.hub.Join(st.last, st.mask); ok {
		st.cur, st.pending = cur, nil // a live stream keeps no catch-up buffer
		return nil, nil
	}
	return changed, nil
}

// follow sends what the hub has for the watcher and returns the channel to wait on.
func (st *watchStream) follow() (<-chan struct{}, error) {
	wake := st.cur.Wait()
	var err error
	st.entries, err = st.cur.Next(st.entries[:0], st.wq.matches)
	switch {
	case errors.Is(err, watch.ErrReset): // a restore: read the state file again from last
		st.cur = nil
		return nil, nil
	case errors.Is(err, watch.ErrSlowConsumer):
		st.s.logger.Warn("change stream cut: slow consumer", "remote", st.remote, "revision", st.last, "buffer", st.s.hub.Config().Buffer)
		_ = st.line(&api.WatchEvent{Type: api.WatchTypeError, Revision: st.last, Code: api.CodeSlowConsumer,
			Message: fmt.Sprintf("this watcher fell more than %d events behind; watch again from revision %d", st.s.hub.Config().Buffer, st.last)})
		return nil, errStreamEnd
	}
	if len(st.entries) > 0 {
		buf := getLineBuf()
		for _, e := range st.entries {
			*buf = append(*buf, e.Line(st.view, st.render)...)
		}
		err = st.write(*buf)
		putLineBuf(buf)
		clear(st.entries)
		if err != nil {
			return nil, err
		}
	}
	st.last = st.cur.Revision()
	return wake, nil
}

// progress sends a progress line.
func (st *watchStream) progress() error {
	if st.cur != nil { // move an idle cursor along first, so the line is current
		if wake, err := st.follow(); err != nil || wake == nil {
			return err
		}
	}
	return st.line(&api.WatchEvent{Type: api.WatchTypeProgress, Revision: st.last})
}

func (st *watchStream) line(ev *api.WatchEvent) error {
	b, _ := json.Marshal(ev)
	return st.write(append(b, '\n'))
}

// write sends b at once (streamOut bounds how long it may block).
func (st *watchStream) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return st.out.write(b)
}

// lineBufs pools the buffers streams render lines into, so an idle stream holds none.
var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func getLineBuf() *[]byte { return lineBufs.Get().(*[]byte) }

func putLineBuf(b *[]byte) {
	if cap(*b) > 1<<20 {
		return
	}
	*b = (*b)[:0]
	lineBufs.Put(b)
}

// WatchStats returns the change stream's counters (package watch).
func (s *Service) WatchStats() watch.Stats { return s.hub.Stats() }
