package check

import (
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/jepsen/history"
)

func add(b *hb, t int64, elem string, kind history.Kind) {
	b.op(t, t+5, history.Event{Process: 1, Workload: "set", F: "add", Key: "p1", Value: elem}, kind, history.Event{Value: elem})
}

func list(b *hb, t int64, elems ...string) {
	b.op(t, t+5, history.Event{Process: 9, Workload: "set", F: "list", Key: "p1"}, history.KindOK, history.Event{Elements: elems})
}

func TestSetChecker(t *testing.T) {
	cases := []struct {
		name  string
		final []string
		valid bool
		check func(e SetEpisode) bool
	}{
		{"all acknowledged present, unknown absent", []string{"a", "b"}, true, func(e SetEpisode) bool { return e.Recovered == 0 }},
		{"unknown present is recovered", []string{"a", "b", "u"}, true, func(e SetEpisode) bool { return e.Recovered == 1 }},
		{"lost acknowledged", []string{"a"}, false, func(e SetEpisode) bool { return len(e.Lost) == 1 && e.Lost[0] == "b" }},
		{"never attempted", []string{"a", "b", "zzz"}, false, func(e SetEpisode) bool { return len(e.Unexpected) == 1 }},
		{"definitely failed but present", []string{"a", "b", "f"}, false, func(e SetEpisode) bool { return len(e.FailedPresent) == 1 }},
		{"duplicate", []string{"a", "b", "b"}, false, func(e SetEpisode) bool { return len(e.Duplicates) == 1 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := &hb{}
			add(b, 0, "a", history.KindOK)
			add(b, 10, "b", history.KindOK)
			add(b, 20, "u", history.KindInfo)
			add(b, 30, "f", history.KindFail)
			list(b, 100, c.final...)
			r := checkSet(b.events)
			eps := r.Details.([]SetEpisode)
			if r.Valid != c.valid || len(eps) != 1 || !c.check(eps[0]) {
				t.Fatalf("got valid=%v %+v (%s), want valid=%v", r.Valid, eps, r.Summary, c.valid)
			}
		})
	}
}

func TestMonotonicChecker(t *testing.T) {
	stale := func(b *hb, t0, t1 int64, node string, rev, idx uint64) {
		b.op(t0, t1, history.Event{Process: 1, Workload: "register", F: "stale-read", Key: "k", Node: node}, history.KindOK,
			history.Event{Value: "v", Rev: rev, ServerIndex: idx})
	}
	b := &hb{}
	stale(b, 0, 10, "n1", 5, 10)
	stale(b, 5, 15, "n1", 5, 9) // concurrent with the first: may be lower
	stale(b, 20, 30, "n1", 6, 12)
	stale(b, 20, 30, "n2", 4, 8) // other node: independent
	if r := checkMonotonic(b.events); !r.Valid {
		t.Fatalf("monotonic history flagged: %s", r.Summary)
	}
	stale(b, 40, 50, "n1", 6, 11) // after the read at index 12 finished
	if r := checkMonotonic(b.events); r.Valid || !strings.Contains(r.Summary, "went back from 12 to 11") {
		t.Fatalf("index regression not found: %s", r.Summary)
	}
	b2 := &hb{}
	stale(b2, 0, 10, "n1", 15, 10)
	if r := checkMonotonic(b2.events); r.Valid {
		t.Fatal("revision above the reported index not flagged")
	}
	b3 := &hb{}
	stale(b3, 0, 10, "n1", 9, 20)
	stale(b3, 20, 30, "n1", 7, 21)
	if r := checkMonotonic(b3.events); r.Valid || !strings.Contains(r.Summary, "revision 9 to 7") {
		t.Fatalf("revision regression not found: %s", r.Summary)
	}
}

func TestLeaderChecker(t *testing.T) {
	b := &hb{}
	b.status(0, "n1", "Leader", 2)
	b.status(1, "n1", "Leader", 2)
	b.status(1, "n2", "Leader", 3) // single poll during a step-down race: suspected only
	b.status(2, "n2", "Follower", 3)
	if r := checkLeaders(b.events); !r.Valid || len(r.Details.(LeaderDetails).Suspected) != 0 {
		t.Fatalf("got %v %+v", r.Valid, r.Details)
	}
	b.status(3, "n2", "Leader", 2)
	b.status(4, "n2", "Leader", 2)
	if r := checkLeaders(b.events); r.Valid || !strings.Contains(r.Summary, "term 2 led by n1 and n2") {
		t.Fatalf("two leaders in term 2 not found: %s", r.Summary)
	}
}

func TestConvergenceChecker(t *testing.T) {
	b := &hb{}
	b.add(history.Event{Kind: history.KindStatus, Node: "n1", Status: &history.Status{Checksum: "aaa", ChecksumIndex: 10}})
	b.add(history.Event{Kind: history.KindStatus, Node: "n2", Status: &history.Status{Checksum: "aaa", ChecksumIndex: 10}})
	b.add(history.Event{Kind: history.KindStatus, Node: "n2", Status: &history.Status{Checksum: "bbb", ChecksumIndex: 11}})
	b.add(history.Event{Kind: history.KindPhase, F: history.PhaseConverged})
	if r := checkConvergence(b.events); !r.Valid {
		t.Fatalf("got %s", r.Summary)
	}
	b.add(history.Event{Kind: history.KindStatus, Node: "n3", Status: &history.Status{Checksum: "ccc", ChecksumIndex: 11}})
	if r := checkConvergence(b.events); r.Valid || !strings.Contains(r.Summary, "diverged") {
		t.Fatalf("divergence not found: %s", r.Summary)
	}
	b2 := &hb{}
	b2.add(history.Event{Kind: history.KindPhase, F: history.PhaseConverged, Episode: 1, Error: "cluster: not converged"})
	if r := checkConvergence(b2.events); r.Valid {
		t.Fatal("missing convergence not flagged")
	}
}

func TestMembershipChecker(t *testing.T) {
	b := &hb{}
	b.status(0, "n1", "Leader", 1, "n1")
	b.phase(1, history.PhaseHealthy, 0)
	b.status(2, "n1", "Leader", 1, "n1", "n2", "n3", "n4")
	b.phase(20, history.PhaseEpisodeStart, 1)
	b.add(history.Event{Kind: history.KindNemesis, F: "membership", Phase: history.PhaseStart, Fault: 1, Time: 15000e6})
	b.status(15001, "n1", "Leader", 1, "n1", "n2", "n3")
	b.add(history.Event{Kind: history.KindNemesis, F: "membership", Phase: history.PhaseStop, Fault: 1, Time: 16000e6})
	b.status(16001, "n1", "Leader", 1, "n1", "n2", "n3", "n4")
	if r := checkMembership(b.events); !r.Valid {
		t.Fatalf("changes during formation and a membership fault flagged: %s", r.Summary)
	}
	b.add(history.Event{Kind: history.KindNemesis, F: "gossip-cut", Phase: history.PhaseStart, Fault: 2, Time: 40000e6})
	b.status(40001, "n1", "Leader", 1, "n1", "n2", "n4")
	if r := checkMembership(b.events); r.Valid || !strings.Contains(r.Summary, "during a gossip cut") {
		t.Fatalf("change during a gossip cut not flagged: %s", r.Summary)
	}
}

func TestAnalyzeVerdicts(t *testing.T) {
	base := func() *hb {
		b := &hb{}
		b.add(history.Event{Kind: history.KindPhase, F: history.PhaseRunStart, Data: []byte(`{"seed":3,"min_ops_before_fault":2,"check_timeout_ms":5000}`)})
		b.phase(1, history.PhaseHealthy, 0)
		b.phase(2, history.PhaseEpisodeStart, 1)
		for i := int64(0); i < 3; i++ {
			b.read(10+i*10, 15+i*10, 1, "n1", "k", "", 0)
			b.events[len(b.events)-1].Episode, b.events[len(b.events)-2].Episode = 1, 1
		}
		b.add(history.Event{Kind: history.KindNemesis, F: "kill-all", Phase: history.PhaseStart, Fault: 1, Time: 100e6, Episode: 1})
		b.add(history.Event{Kind: history.KindNemesis, F: "kill-all", Phase: history.PhaseStop, Fault: 1, Time: 200e6, Episode: 1})
		b.write(300, 310, 1, "k", "a", history.KindOK, 10)
		return b
	}
	b := base()
	b.phase(400, history.PhaseRunEnd, 1)
	rep := Analyze(b.events, Options{})
	if rep.Verdict != Pass || rep.Failed != 0 || rep.Passed != len(rep.Checkers) || rep.Info.Seed != 3 {
		t.Fatalf("got %s %v", rep.Verdict, rep.Reasons)
	}

	b = base()
	b.read(320, 330, 2, "n2", "k", "", 0) // lost write
	b.phase(400, history.PhaseRunEnd, 1)
	if rep := Analyze(b.events, Options{}); rep.Verdict != Fail || rep.Failed != 1 {
		t.Fatalf("got %s %v, want FAIL", rep.Verdict, rep.Reasons)
	}

	b = base() // no run-end: interrupted
	if rep := Analyze(b.events, Options{}); rep.Verdict != Incomplete {
		t.Fatalf("got %s, want INCOMPLETE", rep.Verdict)
	}

	b = base()
	b.phase(400, history.PhaseRunEnd, 1)
	b.events[0].Data = []byte(`{"min_ops_before_fault":50}`)
	rep = Analyze(b.events, Options{CheckTimeout: time.Second})
	if rep.Verdict != Incomplete || !strings.Contains(strings.Join(rep.Reasons, " "), "only 3 operations succeeded") {
		t.Fatalf("got %s %v, want INCOMPLETE for too few ops before the first fault", rep.Verdict, rep.Reasons)
	}
}
