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

// watchStream is one change stream being served: one watch (GET) or many (POST). It reads the
// state file's history while it catches up (cur nil), then follows the hub (cur set) until
// the client leaves, the service shuts down, or every watch has ended.
type watchStream struct {
	s *Service
	// ctx bounds the stream's reads of the state; remote names the client in logs.
	ctx    context.Context
	remote string
	out    streamOut
	wr     *watchRequest
	ident  *acl.Identity
	// view and render are the identity's rendering of events (watch.Entry.Line).
	view   int
	render func(*fsm.Event) []byte
	mask   uint32
	// last is the revision up to which every open watch has every matching event (a watch
	// whose since is later skips what it did not ask for).
	last    uint64
	cur     *watch.Cursor
	entries []*watch.Entry
}

// watchHub returns the node's fan-out hub, attaching it to the node's apply path at the first
// change stream: until someone watches, applying publishes nothing.
func (s *Service) watchHub() *watch.Hub {
	s.hubOnce.Do(func() { s.node.SetEventSink(s.hub) })
	return s.hub
}

// streamWatch serves the stream of wr. Over HTTP/1.1 it takes the connection over once the
// headers are out (streamconn.go) and serves it from a goroutine of its own, so an idle
// stream holds neither the server's buffers nor its deep handler stack; it then returns true
// and the stream releases its watches' places in the hub when it ends.
func (s *Service) streamWatch(w http.ResponseWriter, r *http.Request, wr *watchRequest) bool {
	ident := IdentityFrom(r.Context())
	rc := http.NewResponseController(w)
	st := &watchStream{s: s, ctx: r.Context(), remote: r.RemoteAddr, out: &httpOut{w: w, rc: rc, timeout: s.cfg.WatchWriteTimeout, hold: wr.progress},
		wr: wr, ident: ident, last: wr.watches[0].since}
	for _, wo := range wr.watches {
		st.last = min(st.last, wo.since)
		st.mask |= s.hub.Mask(slices.Collect(maps.Keys(wo.kinds)))
	}
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
			defer s.hub.ReleaseN(len(wr.watches))
			defer st.out.close()
			st.run()
		}()
		return true
	}
	st.run()
	return false
}

// run serves the stream until the client leaves, the service shuts down, or it ends.
func (st *watchStream) run() {
	tick := time.NewTicker(st.wr.progress)
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

// errStreamEnd ends a stream after the final error lines of all its watches.
var errStreamEnd = errors.New("stream ended")

// catchUp sends one batch of the state file's history after last, then joins the hub when it
// holds the rest. It returns the channel to wait on, nil when more is to be read at once.
func (st *watchStream) catchUp() (<-chan struct{}, error) {
	changed := st.s.node.Changed()
	buf := getLineBuf()
	defer putLineBuf(buf)
	full := false
	_, err := st.s.node.Read(st.ctx, node.Stale{}, func(rd *fsm.Reader) error {
		*buf = (*buf)[:0]
		if c := rd.Compacted(); st.last < c {
			*buf = st.endCompacted(*buf, c)
			st.last = c // every watch left starts at c or later
			if st.ended() {
				return nil
			}
		}
		end := rd.AppliedIndex()
		lines, lastRev := 0, uint64(0)
		err := rd.Events(st.last, func(ev *fsm.Event) (bool, error) {
			if lines >= watchBatch && ev.Revision != lastRev {
				full, end = true, lastRev
				return false, nil
			}
			var line []byte
			for _, wo := range st.wr.watches {
				if !wo.wants(ev) {
					continue
				}
				if line == nil {
					line = st.render(ev)
				}
				*buf = wo.appendLine(*buf, line)
				lines, lastRev = lines+1, ev.Revision
			}
			return true, nil
		})
		st.last = max(st.last, end)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := st.write(*buf); err != nil {
		return nil, err
	}
	if st.ended() {
		return nil, errStreamEnd
	}
	if full {
		return nil, nil
	}
	if cur, ok := st.s.hub.Join(st.last, st.mask); ok {
		st.cur = cur
		return nil, nil
	}
	return changed, nil
}

// endCompacted ends the open watches that need history from before c with a compacted line.
func (st *watchStream) endCompacted(buf []byte, c uint64) []byte {
	for _, wo := range st.wr.watches {
		if from := max(st.last, wo.since); !wo.done && from < c {
			buf = wo.appendError(buf, &api.WatchEvent{Type: api.WatchTypeError, Revision: from, Code: api.CodeCompacted, Compacted: c,
				Message: fmt.Sprintf("the history moved past revision %d while this watcher was behind; list again", from)})
		}
	}
	return buf
}

// ended reports whether every watch of the stream has had its final line.
func (st *watchStream) ended() bool {
	for _, wo := range st.wr.watches {
		if !wo.done {
			return false
		}
	}
	return true
}

// anyWants reports whether an open watch of the stream sends ev (the hub's filter).
func (st *watchStream) anyWants(ev *fsm.Event) bool {
	for _, wo := range st.wr.watches {
		if wo.wants(ev) {
			return true
		}
	}
	return false
}

// follow sends what the hub has for the watches and returns the channel to wait on.
func (st *watchStream) follow() (<-chan struct{}, error) {
	wake := st.cur.Wait()
	var err error
	st.entries, err = st.cur.Next(st.entries[:0], st.anyWants)
	switch {
	case errors.Is(err, watch.ErrReset): // a restore: read the state file again from last
		st.cur = nil
		return nil, nil
	case errors.Is(err, watch.ErrSlowConsumer):
		st.s.logger.Warn("change stream cut: slow consumer", "remote", st.remote, "revision", st.last, "watches", len(st.wr.watches), "buffer", st.s.hub.Config().Buffer)
		buf := getLineBuf()
		defer putLineBuf(buf)
		for _, wo := range st.wr.watches {
			if from := max(st.last, wo.since); !wo.done {
				*buf = wo.appendError(*buf, &api.WatchEvent{Type: api.WatchTypeError, Revision: from, Code: api.CodeSlowConsumer,
					Message: fmt.Sprintf("this watcher fell more than %d events behind; watch again from revision %d", st.s.hub.Config().Buffer, from)})
			}
		}
		_ = st.write(*buf)
		return nil, errStreamEnd
	}
	err = st.send(st.entries)
	clear(st.entries)
	if err != nil {
		return nil, err
	}
	st.last = st.cur.Revision()
	return wake, nil
}

// writeChunk is how much a stream renders before it writes: a write carries every line of a
// wake unless they add up to more (many watches matching a burst of changes).
const writeChunk = 256 << 10

// send writes the lines of entries for every watch that wants them.
func (st *watchStream) send(entries []*watch.Entry) error {
	buf := getLineBuf()
	defer putLineBuf(buf)
	for _, e := range entries {
		for _, wo := range st.wr.watches {
			if wo.wants(e.Event) {
				*buf = wo.appendLine(*buf, e.Line(st.view, st.render))
			}
		}
		if len(*buf) >= writeChunk {
			if err := st.write(*buf); err != nil {
				return err
			}
			*buf = (*buf)[:0]
		}
	}
	return st.write(*buf)
}

// progress sends a progress line.
func (st *watchStream) progress() error {
	if st.cur != nil { // move an idle cursor along first, so the line is current
		if wake, err := st.follow(); err != nil || wake == nil {
			return err
		}
	}
	b, _ := json.Marshal(&api.WatchEvent{Type: api.WatchTypeProgress, Revision: st.last})
	return st.write(append(b, '\n'))
}

// appendLine appends an event's line (line, rendered once for every watch) as the watch's:
// with its id spliced in first on a POST stream.
func (wo *watchOne) appendLine(buf, line []byte) []byte {
	if wo.prefix == nil {
		return append(buf, line...)
	}
	return append(append(buf, wo.prefix...), line[1:]...)
}

// appendError appends the watch's final error line and ends the watch.
func (wo *watchOne) appendError(buf []byte, ev *api.WatchEvent) []byte {
	ev.WatchID, wo.done = wo.id, true
	b, _ := json.Marshal(ev)
	return append(append(buf, b...), '\n')
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
