package node

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/requestid"
	"github.com/hashicorp/raft"
)

// A follower forwards its concurrent writes to the leader in batches (transport.ProtoApplyBatch):
// one frame per round trip carries every write that arrived while the previous frame was out,
// and the leader proposes them together, so they ride one raft batch. The request is a count
// and, per write, its request id and its entry (appendString each); the OK answer is a count
// and, per write, the answer rpcApply would have given it. Each write keeps its own outcome:
// a write the leader refuses or fails does not fail the others of its frame.
const (
	// forwardBatchMax bounds the writes of one frame (the leader refuses more).
	forwardBatchMax = 512
	// forwardInFlight is the number of frames a follower has out at once: a write that
	// arrives while all are out waits for the next.
	forwardInFlight = 2
	// forwardNoDeadline bounds a frame whose writes have no deadline of their own.
	forwardNoDeadline = time.Minute
)

// forwardCall sends a batch request to the leader and returns its OK answer without the
// status byte, or a failure classified as callLeader classifies it.
type forwardCall func(ctx context.Context, req []byte) ([]byte, error)

// forwardBatcher gathers a follower's forwarded writes into frames.
type forwardBatcher struct {
	call              forwardCall
	maxBatch, maxSent int

	mu      sync.Mutex
	queue   []*forwarded
	senders int
}

// forwarded is one write waiting for its frame's answer.
type forwarded struct {
	id       string
	entry    []byte
	deadline time.Time
	done     chan forwardOutcome
}

type forwardOutcome struct {
	res *fsm.Result
	err error
}

func newForwardBatcher(call forwardCall, maxBatch, maxSent int) *forwardBatcher {
	return &forwardBatcher{call: call, maxBatch: max(maxBatch, 1), maxSent: max(maxSent, 1)}
}

// Do forwards entry (with the request id of ctx) in the next frame and returns the leader's
// answer to it. Errors are those of forwardApply: a write whose frame never reached the leader
// fails with ErrNoLeader (also when ctx ends before its frame left), one whose answer was lost
// with ErrOutcomeUnknown.
func (b *forwardBatcher) Do(ctx context.Context, entry []byte) (*fsm.Result, error) {
	w := &forwarded{id: requestid.From(ctx), entry: entry, done: make(chan forwardOutcome, 1)}
	w.deadline, _ = ctx.Deadline()
	b.mu.Lock()
	b.queue = append(b.queue, w)
	if b.senders < b.maxSent {
		b.senders++
		go b.send()
	}
	b.mu.Unlock()
	select {
	case o := <-w.done:
		return o.res, o.err
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if i := slices.Index(b.queue, w); i >= 0 {
		b.queue = slices.Delete(b.queue, i, i+1)
		return nil, fmt.Errorf("%w: not sent: %v", ErrNoLeader, ctx.Err())
	}
	return nil, fmt.Errorf("%w: %v", ErrOutcomeUnknown, ctx.Err())
}

// send sends frames until no write waits.
func (b *forwardBatcher) send() {
	for {
		b.mu.Lock()
		k := min(len(b.queue), b.maxBatch)
		if k == 0 {
			b.senders--
			b.mu.Unlock()
			return
		}
		batch := slices.Clone(b.queue[:k])
		b.queue = slices.Delete(b.queue, 0, k)
		b.mu.Unlock()
		b.flush(batch)
	}
}

// flush sends one frame and gives every write of it its outcome.
func (b *forwardBatcher) flush(batch []*forwarded) {
	deadline := time.Time{}
	size := binary.MaxVarintLen64
	for _, w := range batch {
		if w.deadline.IsZero() {
			deadline = time.Now().Add(forwardNoDeadline)
		} else if deadline.Before(w.deadline) {
			deadline = w.deadline
		}
		size += len(w.id) + len(w.entry) + 2*binary.MaxVarintLen64
	}
	req := binary.AppendUvarint(make([]byte, 0, size), uint64(len(batch)))
	for _, w := range batch {
		req = appendString(appendString(req, w.id), string(w.entry))
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	resp, err := b.call(ctx, req)
	var answers [][]byte
	if err == nil {
		if answers, err = splitAnswers(resp, len(batch)); err != nil {
			err = fmt.Errorf("%w: bad batch answer from the leader: %v", ErrOutcomeUnknown, err)
		}
	}
	for i, w := range batch {
		if err != nil {
			w.done <- forwardOutcome{err: err}
			continue
		}
		w.done <- decodeAnswer(answers[i])
	}
}

// splitAnswers reads the count and the per-write answers of a batch answer.
func splitAnswers(b []byte, want int) ([][]byte, error) {
	k, n := binary.Uvarint(b)
	if n <= 0 || k != uint64(want) {
		return nil, fmt.Errorf("%d answers for %d writes", k, want)
	}
	b = b[n:]
	out := make([][]byte, want)
	for i := range out {
		var a string
		if a, b = readString(b); b == nil || a == "" {
			return nil, fmt.Errorf("answer %d truncated", i)
		}
		out[i] = []byte(a)
	}
	return out, nil
}

// decodeAnswer is the outcome an rpcApply answer gives its write.
func decodeAnswer(a []byte) forwardOutcome {
	if a[0] != rpcOK {
		return forwardOutcome{err: decodeErrorAnswer(a)}
	}
	res, err := decodeResult(a[1:])
	if err != nil {
		return forwardOutcome{err: fmt.Errorf("%w: bad answer from the leader: %v", ErrOutcomeUnknown, err)}
	}
	return forwardOutcome{res: res}
}

// forwardedEntry is one write of a batch request.
type forwardedEntry struct {
	id    string
	entry []byte
}

// splitBatch reads a batch request.
func splitBatch(b []byte) ([]forwardedEntry, error) {
	k, n := binary.Uvarint(b)
	if n <= 0 || k == 0 || k > forwardBatchMax {
		return nil, fmt.Errorf("a batch of 1 to %d writes expected", forwardBatchMax)
	}
	b = b[n:]
	out := make([]forwardedEntry, k)
	for i := range out {
		var e string
		if out[i].id, b = readString(b); b == nil {
			return nil, fmt.Errorf("write %d truncated", i)
		}
		if e, b = readString(b); b == nil {
			return nil, fmt.Errorf("write %d truncated", i)
		}
		out[i].entry = []byte(e)
	}
	if len(b) != 0 {
		return nil, errors.New("bytes after the last write")
	}
	return out, nil
}

// rpcApplyBatch applies the writes of a follower's batch; only the leader does. Every entry is
// checked as rpcApply checks one; those that pass are proposed one after the other without
// waiting, so raft commits them together. The answer holds one rpcApply answer per write, in
// order; a refused or failed write does not fail the others. Writes still undecided when ctx
// ends are answered ErrOutcomeUnknown.
func (n *Node) rpcApplyBatch(ctx context.Context, req []byte) []byte {
	if !n.IsLeader() {
		return errorAnswer(ErrNotLeader)
	}
	writes, err := splitBatch(req)
	if err != nil {
		return errorAnswer(fmt.Errorf("%w: %v", ErrInvalid, err))
	}
	answers := make([][]byte, len(writes))
	type proposal struct {
		i        int
		f        raft.ApplyFuture
		proposed time.Time
	}
	var proposals []proposal
	for i, w := range writes {
		wctx := ctx
		if requestid.Valid(w.id) {
			wctx = requestid.With(ctx, w.id)
		}
		version, err := n.checkForwarded(wctx, w.entry)
		if err == nil {
			err = n.checkLogVersion(wctx, version)
		}
		if err != nil {
			answers[i] = errorAnswer(err)
			continue
		}
		proposed := time.Now()
		proposals = append(proposals, proposal{i, n.raft.Apply(w.entry, n.cfg.Raft.ApplyTimeout), proposed})
	}
	type outcome struct {
		i int
		a []byte
	}
	outcomes := make(chan outcome, len(proposals))
	go func() {
		for _, p := range proposals {
			outcomes <- outcome{p.i, applyAnswer(n.applyOutcome(p.f, p.proposed))}
		}
	}()
wait:
	for range proposals {
		select {
		case o := <-outcomes:
			answers[o.i] = o.a
		case <-ctx.Done():
			break wait
		}
	}
	out := binary.AppendUvarint([]byte{rpcOK}, uint64(len(answers)))
	for _, a := range answers {
		if a == nil {
			a = errorAnswer(fmt.Errorf("%w: %v", ErrOutcomeUnknown, ctx.Err()))
		}
		out = appendString(out, string(a))
	}
	n.logger.Debug("applied a forwarded batch", "writes", len(writes))
	return out
}
