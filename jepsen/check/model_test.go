package check

import (
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/cellmap/cellmap/jepsen/history"
)

func TestRegStep(t *testing.T) {
	absent := RegState{}
	v5 := RegState{Exists: true, Value: "a", Rev: 5, Known: true}
	vUnknown := RegState{Exists: true, Value: "b", Floor: 5}
	cases := []struct {
		name string
		s    RegState
		in   RegInput
		out  RegOutput
		want []RegState
	}{
		{"read absent", absent, RegInput{F: "read"}, RegOutput{}, []RegState{absent}},
		{"read absent after write", v5, RegInput{F: "read"}, RegOutput{}, nil},
		{"read current", v5, RegInput{F: "read"}, RegOutput{Value: "a", Rev: 5}, []RegState{v5}},
		{"read wrong revision", v5, RegInput{F: "read"}, RegOutput{Value: "a", Rev: 6}, nil},
		{"read stale value", v5, RegInput{F: "read"}, RegOutput{Value: "old", Rev: 3}, nil},
		{"read learns unknown revision", vUnknown, RegInput{F: "read"}, RegOutput{Value: "b", Rev: 9},
			[]RegState{{Exists: true, Value: "b", Rev: 9, Known: true}}},
		{"read unknown revision too low", vUnknown, RegInput{F: "read"}, RegOutput{Value: "b", Rev: 5}, nil},
		{"write ok", v5, RegInput{F: "write", Value: "c"}, RegOutput{Status: OutOK, Rev: 8},
			[]RegState{{Exists: true, Value: "c", Rev: 8, Known: true}}},
		{"write revision must grow", v5, RegInput{F: "write", Value: "c"}, RegOutput{Status: OutOK, Rev: 5}, nil},
		{"write ok, revision not seen", v5, RegInput{F: "write", Value: "c"}, RegOutput{Status: OutOK},
			[]RegState{{Exists: true, Value: "c", Floor: 5}}},
		{"write unknown is applied", absent, RegInput{F: "write", Value: "c"}, RegOutput{Status: OutUnknown},
			[]RegState{{Exists: true, Value: "c"}}},
		{"cas ok", v5, RegInput{F: "cas", Value: "d", Expect: 5}, RegOutput{Status: OutOK, Rev: 7},
			[]RegState{{Exists: true, Value: "d", Rev: 7, Known: true}}},
		{"cas ok on wrong revision", v5, RegInput{F: "cas", Value: "d", Expect: 4}, RegOutput{Status: OutOK, Rev: 7}, nil},
		{"cas ok on absent", absent, RegInput{F: "cas", Value: "d", Expect: 4}, RegOutput{Status: OutOK, Rev: 7}, nil},
		{"cas mismatch when equal", v5, RegInput{F: "cas", Value: "d", Expect: 5}, RegOutput{Status: OutMismatch}, nil},
		{"cas mismatch when different", v5, RegInput{F: "cas", Value: "d", Expect: 4}, RegOutput{Status: OutMismatch}, []RegState{v5}},
		{"cas mismatch on absent", absent, RegInput{F: "cas", Value: "d", Expect: 4}, RegOutput{Status: OutMismatch}, []RegState{absent}},
		{"cas unknown, precondition holds", v5, RegInput{F: "cas", Value: "d", Expect: 5}, RegOutput{Status: OutUnknown},
			[]RegState{{Exists: true, Value: "d", Floor: 5}}},
		{"cas unknown, precondition fails", v5, RegInput{F: "cas", Value: "d", Expect: 4}, RegOutput{Status: OutUnknown}, []RegState{v5}},
		{"cas unknown, precondition uncertain", vUnknown, RegInput{F: "cas", Value: "d", Expect: 7}, RegOutput{Status: OutUnknown},
			[]RegState{vUnknown, {Exists: true, Value: "d", Floor: 7}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := RegStep(c.s, c.in, c.out)
			if len(got) != len(c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %+v, want %+v", got, c.want)
				}
			}
		})
	}
}

func checkKey(t *testing.T, b *hb) porcupine.CheckResult {
	t.Helper()
	var all []porcupine.Operation
	for _, ops := range RegisterOps(b.events) {
		all = append(all, ops...)
	}
	return porcupine.CheckOperationsTimeout(RegisterModel(), all, 10*time.Second)
}

func TestRegisterLinearizability(t *testing.T) {
	t.Run("sequential", func(t *testing.T) {
		b := &hb{}
		b.write(0, 10, 1, "k", "a", history.KindOK, 5)
		b.read(20, 30, 2, "n2", "k", "a", 5)
		b.write(40, 50, 1, "k", "b", history.KindOK, 9)
		b.read(60, 70, 2, "n3", "k", "b", 9)
		if r := checkKey(t, b); r != porcupine.Ok {
			t.Fatalf("got %v, want Ok", r)
		}
	})
	t.Run("stale read", func(t *testing.T) {
		b := &hb{}
		b.write(0, 10, 1, "k", "a", history.KindOK, 5)
		b.write(20, 30, 1, "k", "b", history.KindOK, 9)
		b.read(40, 50, 2, "n2", "k", "a", 5)
		if r := checkKey(t, b); r != porcupine.Illegal {
			t.Fatalf("got %v, want Illegal", r)
		}
		ev := staleEvidence("k", RegisterOps(b.events)["k"], 3)
		if len(ev) != 1 {
			t.Fatalf("evidence: got %v, want one line", ev)
		}
	})
	t.Run("concurrent read may see either", func(t *testing.T) {
		b := &hb{}
		b.write(0, 10, 1, "k", "a", history.KindOK, 5)
		b.write(20, 60, 1, "k", "b", history.KindOK, 9)
		b.read(30, 40, 2, "n2", "k", "a", 5)
		b.read(45, 50, 3, "n3", "k", "b", 9)
		if r := checkKey(t, b); r != porcupine.Ok {
			t.Fatalf("got %v, want Ok", r)
		}
	})
	t.Run("unknown write may appear later", func(t *testing.T) {
		b := &hb{}
		b.write(0, 10, 1, "k", "a", history.KindOK, 5)
		b.write(20, 30, 2, "k", "lost?", history.KindInfo, 0)
		b.read(40, 50, 3, "n2", "k", "a", 5)
		b.read(60, 70, 3, "n2", "k", "lost?", 12)
		if r := checkKey(t, b); r != porcupine.Ok {
			t.Fatalf("got %v, want Ok", r)
		}
	})
	t.Run("failed write never appears", func(t *testing.T) {
		b := &hb{}
		b.write(0, 10, 1, "k", "a", history.KindOK, 5)
		b.write(20, 30, 2, "k", "nope", history.KindFail, 0)
		b.read(40, 50, 3, "n2", "k", "nope", 12)
		if r := checkKey(t, b); r != porcupine.Illegal {
			t.Fatalf("got %v, want Illegal", r)
		}
	})
	t.Run("lost acknowledged write", func(t *testing.T) {
		b := &hb{}
		b.write(0, 10, 1, "k", "a", history.KindOK, 5)
		b.read(40, 50, 3, "n2", "k", "", 0)
		if r := checkKey(t, b); r != porcupine.Illegal {
			t.Fatalf("got %v, want Illegal", r)
		}
	})
	t.Run("cas mismatch is checked", func(t *testing.T) {
		b := &hb{}
		b.write(0, 10, 1, "k", "a", history.KindOK, 5)
		b.op(20, 30, history.Event{Process: 2, Workload: "register", F: "cas", Key: "k", Value: "c", Expect: 5},
			history.KindFail, history.Event{Error: "revision_mismatch"})
		if r := checkKey(t, b); r != porcupine.Illegal {
			t.Fatalf("mismatch although the revision matched: got %v, want Illegal", r)
		}
	})
}

func TestStaleReadsAreNotLinearizabilityChecked(t *testing.T) {
	b := &hb{}
	b.write(0, 10, 1, "k", "a", history.KindOK, 5)
	b.write(20, 30, 1, "k", "b", history.KindOK, 9)
	b.op(40, 50, history.Event{Process: 2, Workload: "register", F: "stale-read", Key: "k", Node: "n2"}, history.KindOK,
		history.Event{Value: "a", Rev: 5, ServerIndex: 6})
	if r := checkLinearizable(b.events, 10*time.Second); !r.Valid {
		t.Fatalf("stale read counted as a violation: %s", r.Summary)
	}
}
