package node

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/requestid"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// fakeLeader answers batch requests as a leader would: a write "ok-<n>" gets a result at index
// n, "refuse" an ErrInvalid answer, "exists" a result carrying a domain error. The first frame
// waits until release is closed (when hold is set), so the test can queue writes behind it.
type fakeLeader struct {
	hold    bool
	release chan struct{}

	mu     sync.Mutex
	frames [][]forwardedEntry
}

func newFakeLeader(hold bool) *fakeLeader {
	return &fakeLeader{hold: hold, release: make(chan struct{})}
}

func (l *fakeLeader) call(ctx context.Context, req []byte) ([]byte, error) {
	writes, err := splitBatch(req)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	first := len(l.frames) == 0
	l.frames = append(l.frames, writes)
	l.mu.Unlock()
	if first && l.hold {
		select {
		case <-l.release:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v", ErrOutcomeUnknown, ctx.Err())
		}
	}
	out := binary.AppendUvarint(nil, uint64(len(writes)))
	for _, w := range writes {
		e := string(w.entry)
		var a []byte
		switch {
		case e == "refuse":
			a = errorAnswer(fmt.Errorf("%w: refused", ErrInvalid))
		case e == "exists":
			a = resultAnswer(&fsm.Result{Index: 7, Err: fsm.ErrorFromCode(fsm.Code(fsm.ErrExists), "exists")})
		default:
			i, _ := strconv.Atoi(strings.TrimPrefix(e, "ok-"))
			a = resultAnswer(&fsm.Result{Index: uint64(i), Changed: true})
		}
		out = appendString(out, string(a))
	}
	return out, nil
}

func (l *fakeLeader) frameSizes() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var s []int
	for _, f := range l.frames {
		s = append(s, len(f))
	}
	return s
}

func (b *forwardBatcher) queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

// TestForwardBatcherGivesEachWriteItsOwnAnswer: writes that arrive while a frame is out go
// together in the next one; each gets the answer to its own entry, refusals and domain errors
// included, and the request ids travel with them.
func TestForwardBatcherGivesEachWriteItsOwnAnswer(t *testing.T) {
	l := newFakeLeader(true)
	b := newForwardBatcher(l.call, forwardBatchMax, 1)
	const writers = 40
	type got struct {
		res *fsm.Result
		err error
	}
	results := make([]got, writers)
	var wg sync.WaitGroup
	entry := func(i int) string {
		switch {
		case i%10 == 3:
			return "refuse"
		case i%10 == 7:
			return "exists"
		}
		return fmt.Sprintf("ok-%d", 1000+i)
	}
	start := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := requestid.With(ctxT(t), fmt.Sprintf("req-%d", i))
			results[i].res, results[i].err = b.Do(ctx, []byte(entry(i)))
		}()
	}
	start(0)
	testkit.WaitFor(t, "the first frame out", 10*time.Second, func() bool { return len(l.frameSizes()) == 1 })
	for i := 1; i < writers; i++ {
		start(i)
	}
	testkit.WaitFor(t, "the other writes queued", 10*time.Second, func() bool { return b.queued() == writers-1 })
	close(l.release)
	wg.Wait()
	if sizes := l.frameSizes(); len(sizes) != 2 || sizes[0] != 1 || sizes[1] != writers-1 {
		t.Fatalf("frames of %v writes, want [1 %d]", sizes, writers-1)
	}
	for i, g := range results {
		switch e := entry(i); e {
		case "refuse":
			if !errors.Is(g.err, ErrInvalid) || g.res != nil {
				t.Errorf("write %d (%s): got %v %v, want ErrInvalid", i, e, g.res, g.err)
			}
		case "exists":
			if g.err != nil || g.res == nil || !errors.Is(g.res.Err, fsm.ErrExists) {
				t.Errorf("write %d (%s): got %+v %v, want a result with ErrAlreadyExists", i, e, g.res, g.err)
			}
		default:
			if g.err != nil || g.res == nil || g.res.Index != uint64(1000+i) || !g.res.Changed {
				t.Errorf("write %d (%s): got %+v %v, want index %d", i, e, g.res, g.err, 1000+i)
			}
		}
	}
	for _, f := range l.frames {
		for _, w := range f {
			if !strings.HasPrefix(w.id, "req-") {
				t.Errorf("write %q travelled without its request id (%q)", w.entry, w.id)
			}
		}
	}
}

// TestForwardBatcherFrameFailure: when the frame itself fails, every write of it gets that
// failure: definite when the frame never reached the leader, unknown when its answer was lost
// or cannot be read — never a result.
func TestForwardBatcherFrameFailure(t *testing.T) {
	tests := []struct {
		name string
		call forwardCall
		want error
	}{
		{"not sent", func(context.Context, []byte) ([]byte, error) { return nil, fmt.Errorf("%w: refused", ErrNoLeader) }, ErrNoLeader},
		{"not leader", func(context.Context, []byte) ([]byte, error) { return nil, decodeErrorAnswer(errorAnswer(ErrNotLeader)) }, ErrNotLeader},
		{"answer lost", func(context.Context, []byte) ([]byte, error) { return nil, fmt.Errorf("%w: reset", ErrOutcomeUnknown) }, ErrOutcomeUnknown},
		{"too few answers", func(_ context.Context, req []byte) ([]byte, error) {
			writes, _ := splitBatch(req)
			out := binary.AppendUvarint(nil, uint64(len(writes)-1))
			for range writes[1:] {
				out = appendString(out, string(resultAnswer(&fsm.Result{Index: 1})))
			}
			return out, nil
		}, ErrOutcomeUnknown},
		{"truncated answer", func(context.Context, []byte) ([]byte, error) { return binary.AppendUvarint(nil, 3), nil }, ErrOutcomeUnknown},
		{"undecodable result", func(_ context.Context, req []byte) ([]byte, error) {
			writes, _ := splitBatch(req)
			out := binary.AppendUvarint(nil, uint64(len(writes)))
			for range writes {
				out = appendString(out, string([]byte{rpcOK, 0x80}))
			}
			return out, nil
		}, ErrOutcomeUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newForwardBatcher(tc.call, forwardBatchMax, 1)
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var res *fsm.Result
					res, errs[i] = b.Do(ctxT(t), []byte("ok-1"))
					if res != nil {
						errs[i] = fmt.Errorf("a result (%+v) from a failed frame", res)
					}
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if !errors.Is(err, tc.want) {
					t.Errorf("write %d: got %v, want %v", i, err, tc.want)
				}
				if tc.want != ErrOutcomeUnknown && errors.Is(err, ErrOutcomeUnknown) {
					t.Errorf("write %d: a definite failure reported as unknown: %v", i, err)
				}
			}
		})
	}
}

// TestForwardBatcherDeadline: a write whose deadline passes while it waits for a frame is
// never sent and fails definitely; one whose frame is out when its deadline passes is
// unknown, and the frame still answers the others.
func TestForwardBatcherDeadline(t *testing.T) {
	l := newFakeLeader(true)
	b := newForwardBatcher(l.call, forwardBatchMax, 1)
	firstCtx, cancelFirst := context.WithCancel(ctxT(t))
	firstErr := make(chan error, 1)
	go func() {
		_, err := b.Do(firstCtx, []byte("ok-1"))
		firstErr <- err
	}()
	testkit.WaitFor(t, "the first frame out", 10*time.Second, func() bool { return len(l.frameSizes()) == 1 })
	queuedCtx, cancelQueued := context.WithCancel(ctxT(t))
	queuedErr := make(chan error, 1)
	go func() {
		_, err := b.Do(queuedCtx, []byte("ok-2"))
		queuedErr <- err
	}()
	testkit.WaitFor(t, "the second write queued", 10*time.Second, func() bool { return b.queued() == 1 })
	cancelQueued()
	if err := <-queuedErr; !errors.Is(err, ErrNoLeader) || errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("write cancelled before its frame left: got %v, want a definite ErrNoLeader", err)
	}
	cancelFirst()
	if err := <-firstErr; !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("write cancelled while its frame was out: got %v, want ErrOutcomeUnknown", err)
	}
	close(l.release)
	res, err := b.Do(ctxT(t), []byte("ok-3"))
	if err != nil || res.Index != 3 {
		t.Fatalf("a later write: got %+v %v, want index 3", res, err)
	}
	for _, f := range l.frames {
		for _, w := range f {
			if string(w.entry) == "ok-2" {
				t.Fatalf("the cancelled write was sent in a frame: %v", l.frameSizes())
			}
		}
	}
}

// TestSplitBatchRefusesMalformedRequests: the leader reads a batch from anyone who reaches its
// raft port; a malformed one is refused whole.
func TestSplitBatchRefusesMalformedRequests(t *testing.T) {
	one := appendString(appendString(binary.AppendUvarint(nil, 1), "id"), "entry")
	tests := []struct {
		name string
		req  []byte
	}{
		{"empty", nil},
		{"no writes", binary.AppendUvarint(nil, 0)},
		{"too many writes", binary.AppendUvarint(nil, forwardBatchMax+1)},
		{"truncated", one[:len(one)-1]},
		{"fewer writes than counted", append(binary.AppendUvarint(nil, 2), one[1:]...)},
		{"trailing bytes", append(one, 0)},
	}
	for _, tc := range tests {
		if _, err := splitBatch(tc.req); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	w, err := splitBatch(one)
	if err != nil || len(w) != 1 || w[0].id != "id" || string(w[0].entry) != "entry" {
		t.Fatalf("well-formed batch: got %+v %v", w, err)
	}
}
