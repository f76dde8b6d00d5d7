package fsm

import (
	"io"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"
)

// recSink records what the FSM hands its event sink.
type recSink struct {
	resets []uint64
	events []*Event
	heads  []uint64
}

func (s *recSink) Publish(applied uint64, evs []*Event) {
	s.heads = append(s.heads, applied)
	s.events = append(s.events, evs...)
}

func (s *recSink) Reset(applied uint64) { s.resets = append(s.resets, applied) }

func sinkLines(evs []*Event) []evLine {
	var out []evLine
	for _, ev := range evs {
		l := evLine{Rev: ev.Revision, Sub: ev.Sub, Kind: ev.Kind, Op: ev.Op.String(), Key: ev.Key}
		if m, ok := ev.Record.(*InstanceMapping); ok {
			l.Cell = m.CellUUID
		}
		out = append(out, l)
	}
	return out
}

// TestEventSinkSeesTheHistory: an attached sink is reset to the applied index, then receives
// after each committed batch exactly the events the history got (records included), and
// the new applied index even for batches without events; a restore resets it.
func TestEventSinkSeesTheHistory(t *testing.T) {
	f := newTestFSM(t)
	f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	attachedAt := f.AppliedIndex()
	s := &recSink{}
	f.SetEventSink(s)
	if !reflect.DeepEqual(s.resets, []uint64{attachedAt}) {
		t.Fatalf("resets %v, want [%d]", s.resets, attachedAt)
	}
	f.mustApply(putMapping(inst1, cellA, "p1"))
	f.ApplyBatch([]*raft.Log{f.entry(putMapping(inst2, cellA, "p2")), f.entry(putHost("h1", cellA)), f.entry(&Noop{})})
	f.mustApply(&Txn{Ops: []Op{{Kind: OpDelete, Table: TableInstanceMappings, Key: inst1}}})
	noop := f.mustApply(&Noop{}).Index

	if got, want := sinkLines(s.events), f.events(attachedAt); !reflect.DeepEqual(got, want) || len(want) != 4 {
		t.Fatalf("published:\n got %+v\nwant %+v", got, want)
	}
	if last := s.heads[len(s.heads)-1]; last != noop || len(s.heads) != 4 {
		t.Fatalf("heads %v, want 4 batches ending at %d", s.heads, noop)
	}

	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf memSink
	if err := snap.Persist(&buf); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	if err := f.Restore(io.NopCloser(&buf)); err != nil {
		t.Fatal(err)
	}
	if got := s.resets[len(s.resets)-1]; len(s.resets) != 2 || got != noop {
		t.Fatalf("resets after restore %v, want a second at %d", s.resets, noop)
	}
}
