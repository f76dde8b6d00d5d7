package fsm

// The live feed of the event history. An EventSink (the change stream's in-memory hub,
// package watch) receives the events of every applied batch once the batch is committed, so
// it can fan them out to live watchers without each of them reading the state file. The sink
// only ever sees what the state file already holds: it is a cache of the history's tail, never
// a second source of truth.

// EventSink receives applied events. Both methods are called on the apply path (raft's FSM
// goroutine) and must return at once: they never wait for a watcher.
type EventSink interface {
	// Publish follows a committed batch: events are the batch's changes in revision order
	// (possibly none), applied is the new applied index.
	Publish(applied uint64, events []*Event)
	// Reset says the sink knows nothing of the history up to applied, which from now on
	// only the state file holds: when the sink is attached, after a snapshot replaced the
	// state, and after a batch the sink was attached during.
	Reset(applied uint64)
}

// SetEventSink attaches s: from now on every committed batch is published to it. It calls
// s.Reset with the applied index first.
func (f *FSM) SetEventSink(s EventSink) {
	f.sinkMu.Lock()
	defer f.sinkMu.Unlock()
	f.sink = s
	s.Reset(f.applied.Load())
}

// sinkAttached reports whether a batch starting now must collect its events.
func (f *FSM) sinkAttached() bool {
	f.sinkMu.Lock()
	defer f.sinkMu.Unlock()
	return f.sink != nil
}

// publish moves the applied index after a committed batch and hands the batch to the sink, or
// resets the sink when the batch did not collect its events (the sink was attached while it
// was being applied). Both happen under sinkMu, so SetEventSink sees either the index before
// the batch and then the batch, or the index after it.
func (f *FSM) publish(collected bool, applied uint64, events []*Event) {
	f.sinkMu.Lock()
	defer f.sinkMu.Unlock()
	f.setApplied(applied)
	switch {
	case f.sink == nil:
	case collected:
		f.sink.Publish(applied, events)
	default:
		f.sink.Reset(applied)
	}
}

// resetSink follows a restore: the sink's events describe a history the state no longer has.
func (f *FSM) resetSink() {
	f.sinkMu.Lock()
	defer f.sinkMu.Unlock()
	if f.sink != nil {
		f.sink.Reset(f.applied.Load())
	}
}

// collectEvent keeps a copy of an appended event for the sink, when one is attached. The
// record is decoded from its encoding, so later changes to r in the same batch do not show.
func (ac *applyCtx) collectEvent(op EventOp, kind, key string, enc []byte) error {
	if !ac.collect {
		return nil
	}
	ev := &Event{Revision: ac.index, Sub: ac.sub, Kind: kind, Op: op, Key: key, Time: ac.now.UTC()}
	ev.Record = tableOfKind(kind).newRec()
	if err := decodeRecord(enc, ev.Record); err != nil {
		return err
	}
	ac.published = append(ac.published, ev)
	return nil
}
