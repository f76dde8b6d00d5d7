package history

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestRecorderEncodeDecodeRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	rec := NewRecorder(nil)
	rec.w = &buf
	rec.SetEpisode(2)
	inv := rec.Invoke(Event{Process: rec.NewProcess(), Workload: "register", F: "cas", Key: "k1", Node: "n2", Value: "v1", Expect: 7})
	rec.Complete(inv, KindOK, Event{Value: "v1", Rev: 9, ServerIndex: 11})
	rec.Record(Event{Kind: KindNemesis, F: "isolate-leader", Phase: PhaseStart, Fault: 1, Targets: []string{"n1"}})
	rec.Record(Event{Kind: KindStatus, Node: "n1", Status: &Status{State: "Leader", Term: 3, Servers: []string{"n1", "n2"}}})
	rec.Record(Event{Kind: KindPhase, F: PhaseRunStart, Data: []byte(`{"seed":5}`)})
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	written := buf.String()
	got, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := rec.Events()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded history differs:\ngot  %+v\nwant %+v", got, want)
	}
	for i, e := range got {
		if e.Seq != int64(i+1) || (i > 0 && e.Time < got[i-1].Time) || e.Episode != 2 {
			t.Fatalf("event %d: seq %d time %d episode %d, want increasing seq and time in episode 2", i, e.Seq, e.Time, e.Episode)
		}
	}
	if got[1].Op != got[0].Op || got[1].Expect != 7 || got[1].Key != "k1" || got[1].Node != "n2" {
		t.Fatalf("completion did not inherit the invoke's identity: %+v", got[1])
	}

	var again bytes.Buffer
	if err := Encode(&again, got); err != nil {
		t.Fatal(err)
	}
	if again.String() != written {
		t.Fatalf("Encode differs from the recorder's lines:\n%s\n%s", again.String(), written)
	}
	round, err := Decode(&again)
	if err != nil || !reflect.DeepEqual(round, got) {
		t.Fatalf("Encode/Decode round trip: %v", err)
	}
}

func TestDecodeTruncatedAndCorrupt(t *testing.T) {
	good := `{"seq":1,"time":5,"kind":"invoke","op":1,"f":"read"}` + "\n"
	events, err := Decode(strings.NewReader(good + `{"seq":2,"ti`))
	if err != nil || len(events) != 1 {
		t.Fatalf("truncated last line: got %d events, %v; want 1, nil", len(events), err)
	}
	_, err = Decode(strings.NewReader(good + "garbage\n" + good))
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt middle line: got %v, want ErrCorrupt", err)
	}
}

func TestOpsAndWindows(t *testing.T) {
	events := []Event{
		{Seq: 1, Time: 10, Kind: KindInvoke, Op: 1, F: "write"},
		{Seq: 2, Time: 12, Kind: KindInvoke, Op: 2, F: "read"},
		{Seq: 3, Time: 15, Kind: KindNemesis, F: "pause-leader", Phase: PhaseStart, Fault: 1},
		{Seq: 4, Time: 20, Kind: KindOK, Op: 2, F: "read"},
		{Seq: 5, Time: 30, Kind: KindNemesis, F: "pause-leader", Phase: PhaseStop, Fault: 1, Detail: "SIGCONT"},
		{Seq: 6, Time: 31, Kind: KindNemesis, F: "kill-all", Phase: PhaseStart, Fault: 2},
	}
	ops := Ops(events)
	if len(ops) != 2 || ops[0].Completed || ops[0].Outcome() != KindInfo || ops[0].Latency() != -1 {
		t.Fatalf("op 1 never completed: got %+v", ops[0])
	}
	if !ops[1].Completed || ops[1].Latency() != 8 {
		t.Fatalf("op 2: got latency %d, want 8", ops[1].Latency())
	}
	ws := Windows(events)
	if len(ws) != 2 || ws[0].Start != 15 || ws[0].End != 30 || ws[0].StopDetail != "SIGCONT" || ws[1].End != -1 {
		t.Fatalf("windows: got %+v", ws)
	}
	if Last(events) != 31 || Last(nil) != 0 {
		t.Fatal("Last")
	}
}
