package history

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Recorder appends events to a history, stamping each with the next sequence number and
// the time since the recorder was made. It is safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	start   time.Time
	w       io.Writer
	seq     int64
	op      int64
	process int
	episode int
	keep    bool
	events  []Event
	err     error
}

// NewRecorder returns a recorder writing JSON lines to w. With w nil it keeps the events in
// memory instead (see Events); a long run's history does not need to fit in memory twice.
func NewRecorder(w io.Writer) *Recorder {
	return &Recorder{start: time.Now(), w: w, keep: w == nil}
}

// Now is the recorder's clock: nanoseconds since it was made (monotonic).
func (r *Recorder) Now() int64 { return int64(time.Since(r.start)) }

// Start is the wall-clock time the recorder's clock counts from.
func (r *Recorder) Start() time.Time { return r.start }

// SetEpisode stamps later events with episode n.
func (r *Recorder) SetEpisode(n int) {
	r.mu.Lock()
	r.episode = n
	r.mu.Unlock()
}

// NewProcess returns a fresh logical client id (1, 2, ...).
func (r *Recorder) NewProcess() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.process++
	return r.process
}

// Record stamps e with Seq, Time and the current episode (unless set) and appends it.
func (r *Recorder) Record(e Event) Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	e.Seq = r.seq
	e.Time = r.Now()
	if e.Episode == 0 {
		e.Episode = r.episode
	}
	if r.keep {
		r.events = append(r.events, e)
	}
	if r.w != nil && r.err == nil {
		line, err := json.Marshal(e)
		if err == nil {
			line = append(line, '\n')
			_, err = r.w.Write(line)
		}
		if err != nil {
			r.err = fmt.Errorf("history: write: %w", err)
		}
	}
	return e
}

// Invoke records the start of a client operation and returns it (with its new Op id).
func (r *Recorder) Invoke(e Event) Event {
	r.mu.Lock()
	r.op++
	e.Op = r.op
	r.mu.Unlock()
	e.Kind = KindInvoke
	return r.Record(e)
}

// Complete records the end of the operation inv. Fields of done that identify the operation
// (Op, Process, Workload, F, Key, Node) are copied from inv; the rest (Value, Rev, Error,
// ...) are done's.
func (r *Recorder) Complete(inv Event, kind Kind, done Event) Event {
	done.Kind = kind
	done.Op, done.Process, done.Workload, done.F = inv.Op, inv.Process, inv.Workload, inv.F
	done.Key, done.Node, done.Episode = inv.Key, inv.Node, inv.Episode
	if done.Expect == 0 {
		done.Expect = inv.Expect
	}
	return r.Record(done)
}

// Events returns a copy of everything recorded so far by a recorder without a writer.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Err returns the first write error, if any.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}
