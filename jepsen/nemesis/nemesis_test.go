package nemesis

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/jepsen/history"
	"github.com/cellmap/cellmap/jepsen/netns"
)

func TestScheduleIsDeterministic(t *testing.T) {
	names, err := Resolve("mixed", 3)
	if err != nil {
		t.Fatal(err)
	}
	sc := DefaultScheduleConfig()
	a, _ := NewSchedule(42, 3, names, time.Minute, sc)
	b, _ := NewSchedule(42, 3, names, time.Minute, sc)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, different schedules:\n%v\n%v", a, b)
	}
	c, _ := NewSchedule(43, 3, names, time.Minute, sc)
	if reflect.DeepEqual(a, c) {
		t.Fatal("seeds 42 and 43 gave the same schedule")
	}
	seen := map[string]bool{}
	for _, p := range a {
		var at time.Duration
		for i, s := range p.Steps {
			if i == 0 && s.Gap != sc.LeadIn {
				t.Fatalf("episode %d starts after %v, want the lead-in %v", p.Episode, s.Gap, sc.LeadIn)
			}
			at += s.Gap + s.Hold
			seen[s.Name] = true
		}
		if at > time.Minute-sc.Tail {
			t.Fatalf("episode %d planned %v, longer than the episode", p.Episode, at)
		}
	}
	if len(seen) < len(names)-2 {
		t.Fatalf("3 episodes covered only %d of %d nemeses: %v", len(seen), len(names), seen)
	}
}

func TestResolve(t *testing.T) {
	mixed3, _ := Resolve("mixed", 3)
	all5, _ := Resolve("all", 5)
	for _, n := range mixed3 {
		if n == "ring" || n == "bridge" || n == "membership" {
			t.Fatalf("mixed for 3 nodes includes %s", n)
		}
	}
	if len(all5) != len(Catalog())-1 {
		t.Fatalf("all for 5 nodes without the cells workload: %d of %d", len(all5), len(Catalog())-1)
	}
	for _, n := range append(all5, mixed3...) {
		if n == "conductor-cut" {
			t.Fatal("conductor-cut resolved without the cells workload")
		}
	}
	withCells, _ := ResolveFor("all", 5, []string{"register", "cells"})
	mixedCells, _ := ResolveFor("mixed", 3, []string{"cells"})
	if len(withCells) != len(Catalog()) || mixedCells[len(mixedCells)-1] != "conductor-cut" {
		t.Fatalf("with the cells workload: all %v, mixed %v", withCells, mixedCells)
	}
	if _, err := Resolve("conductor-cut", 3); !errors.Is(err, ErrNotApplicable) || !strings.Contains(err.Error(), "--workloads") {
		t.Fatalf("conductor-cut without the cells workload: %v", err)
	}
	if got, err := ResolveFor("conductor-cut,kill-all", 3, []string{"cells"}); err != nil || !reflect.DeepEqual(got, []string{"kill-all", "conductor-cut"}) {
		t.Fatalf("explicit conductor-cut: %v %v", got, err)
	}
	if _, err := (provided{"conductor-cut", "cells"}).Start(context.Background(), newFake(), nil); !errors.Is(err, ErrSkipped) {
		t.Fatalf("an unregistered provided nemesis must skip: %v", err)
	}
	got, err := Resolve("kill-leader, isolate-leader,kill-leader", 3)
	if err != nil || !reflect.DeepEqual(got, []string{"isolate-leader", "kill-leader"}) {
		t.Fatalf("got %v %v", got, err)
	}
	if _, err := Resolve("ring", 3); !errors.Is(err, ErrNotApplicable) {
		t.Fatalf("ring on 3 nodes: %v", err)
	}
	if _, err := Resolve("bogus", 3); !errors.Is(err, ErrUnknown) {
		t.Fatalf("bogus: %v", err)
	}
	if got, _ := Resolve("none", 3); len(got) != 0 {
		t.Fatal("none")
	}
}

func TestRingGrudge(t *testing.T) {
	order := []string{"a", "b", "c", "d", "e"}
	g := ringGrudge(order)
	views := map[string]string{}
	for _, id := range order {
		dropped := map[string]bool{}
		for _, p := range g[id] {
			dropped[p] = true
		}
		var sees []string
		for _, p := range order {
			if !dropped[p] {
				sees = append(sees, p)
			}
		}
		if len(sees) != 3 {
			t.Fatalf("%s sees %v, want a majority of 3", id, sees)
		}
		sort.Strings(sees)
		key := strings.Join(sees, "")
		if views[key] != "" {
			t.Fatalf("%s and %s see the same majority %v", id, views[key], sees)
		}
		views[key] = id
	}
	for a, peers := range g {
		for _, b := range peers {
			found := false
			for _, x := range g[b] {
				found = found || x == a
			}
			if !found {
				t.Fatalf("%s drops %s but not the other way round", a, b)
			}
		}
	}
}

// fakeEnv records what nemeses do.
type fakeEnv struct {
	mu     sync.Mutex
	nodes  []string
	leader string
	rules  map[string]netns.Rules
	cuts   []string
	calls  []string
	// mute are nodes whose status requests fail; index is a node's last log index (100 when unset).
	mute  map[string]bool
	index map[string]uint64
}

func (f *fakeEnv) Nodes() []string           { return f.nodes }
func (f *fakeEnv) IP(id string) string       { return "10.77.0." + id[1:] }
func (f *fakeEnv) RaftAddr(id string) string { return f.IP(id) + ":8481" }
func (f *fakeEnv) GossipPort() int           { return 8482 }
func (f *fakeEnv) Leader(context.Context) (string, error) {
	if f.leader == "" {
		return "", errors.New("no leader")
	}
	return f.leader, nil
}
func (f *fakeEnv) Status(_ context.Context, id string) (*api.ClusterStatus, error) {
	if f.mute[id] {
		return nil, errors.New("context deadline exceeded")
	}
	st := &api.ClusterStatus{NodeID: id, LastLogIndex: 100}
	if i, ok := f.index[id]; ok {
		st.LastLogIndex = i
	}
	for _, n := range f.nodes {
		st.Servers = append(st.Servers, api.ClusterServer{ID: n, Suffrage: "Voter"})
	}
	return st, nil
}
func (f *fakeEnv) Client(id string) *client.Client { return client.New("127.0.0.1:1", nil) }
func (f *fakeEnv) SetRules(_ context.Context, id string, r netns.Rules) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules[id] = r
	return nil
}
func (f *fakeEnv) CutConns(_ context.Context, id string, peers []string, _ []int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cuts = append(f.cuts, id+">"+strings.Join(peers, ","))
	return nil
}
func (f *fakeEnv) call(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
	return nil
}
func (f *fakeEnv) Kill(id string) error                                 { return f.call("kill " + id) }
func (f *fakeEnv) Start(id string) error                                { return f.call("start " + id) }
func (f *fakeEnv) Pause(id string) error                                { return f.call("pause " + id) }
func (f *fakeEnv) Resume(id string) error                               { return f.call("resume " + id) }
func (f *fakeEnv) SetDelay(_ context.Context, id string, ms int) error  { return f.call("delay " + id) }
func (f *fakeEnv) ReadLog(id string, from int64) ([]byte, int64, error) { return nil, from, nil }

func newFake() *fakeEnv {
	return &fakeEnv{nodes: []string{"n1", "n2", "n3"}, leader: "n2", rules: map[string]netns.Rules{}}
}

func TestIsolateLeaderRulesAndCuts(t *testing.T) {
	f := newFake()
	fault, err := isolateLeader{}.Start(context.Background(), f, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.rules["n2"]; !reflect.DeepEqual(got.DropFrom, []string{"10.77.0.1", "10.77.0.3"}) || len(got.DropTo) != 2 {
		t.Fatalf("leader rules: %+v", got)
	}
	if got := f.rules["n1"]; !reflect.DeepEqual(got.DropFrom, []string{"10.77.0.2"}) {
		t.Fatalf("n1 rules: %+v", got)
	}
	sort.Strings(f.cuts)
	if want := []string{"n1>n2", "n2>n1,n3", "n3>n2"}; !reflect.DeepEqual(f.cuts, want) {
		t.Fatalf("connections cut: got %v, want %v", f.cuts, want)
	}
	if _, err := fault.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	for id, r := range f.rules {
		if !r.Empty() {
			t.Fatalf("%s not healed: %+v", id, r)
		}
	}
}

func TestDriverRecordsStartStopPairs(t *testing.T) {
	f := newFake()
	rec := history.NewRecorder(nil)
	d := NewDriver(f, rec)
	plan := Plan{Episode: 1, Steps: []Step{
		{Gap: time.Millisecond, Name: "kill-leader", Hold: time.Millisecond, Seed: 1},
		{Gap: time.Millisecond, Name: "membership", Hold: time.Millisecond, Seed: 2}, // 3 voters: skipped
		{Gap: time.Millisecond, Name: "pause-random", Hold: time.Millisecond, Seed: 3},
	}}
	d.Run(context.Background(), plan)
	ws := history.Windows(rec.Events())
	if len(ws) != 3 || d.Faults() != 3 {
		t.Fatalf("got %d windows, %d faults", len(ws), d.Faults())
	}
	for _, w := range ws {
		if w.End < w.Start {
			t.Fatalf("fault %d never stopped", w.Fault)
		}
	}
	if !strings.HasPrefix(ws[1].Detail, "skipped") {
		t.Fatalf("membership on 3 voters: %q, want skipped", ws[1].Detail)
	}
	if f.calls[0] != "kill n2" || f.calls[1] != "start n2" || !strings.HasPrefix(f.calls[2], "pause ") || !strings.HasPrefix(f.calls[3], "resume ") {
		t.Fatalf("calls: %v", f.calls)
	}
}

func TestDriverStopsActiveFaultOnCancel(t *testing.T) {
	f := newFake()
	rec := history.NewRecorder(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	NewDriver(f, rec).Run(ctx, Plan{Steps: []Step{{Name: "pause-leader", Hold: time.Hour, Seed: 1}}})
	if len(f.calls) != 2 || f.calls[1] != "resume n2" {
		t.Fatalf("calls: %v, want pause then resume", f.calls)
	}
}

// During runs inside the fault's window: after the start, before the stop, and its note is
// the stop's note.
func TestDriverRunsDuringInsideTheHold(t *testing.T) {
	rec := history.NewRecorder(nil)
	var during []string
	n := funcNemesis{name: "probe", start: func() *Fault {
		return &Fault{Targets: []string{"n1"},
			During: func(ctx context.Context) string {
				if _, ok := ctx.Deadline(); !ok {
					t.Error("During without a deadline")
				}
				during = append(during, "during")
				return "probed"
			},
			Stop: func(context.Context) (string, error) { during = append(during, "stop"); return "healed", nil }}
	}}
	d := NewDriver(newFake(), rec)
	d.Register(n)
	d.Run(context.Background(), Plan{Steps: []Step{{Name: "probe", Hold: time.Millisecond, Seed: 1}}})
	ws := history.Windows(rec.Events())
	if strings.Join(during, ",") != "during,stop" || len(ws) != 1 {
		t.Fatalf("calls %v, windows %+v", during, ws)
	}
	var stop history.Event
	for _, e := range rec.Events() {
		if e.Kind == history.KindNemesis && e.Phase == history.PhaseStop {
			stop = e
		}
	}
	if stop.Detail != "probed; healed" {
		t.Fatalf("stop note %q, want the During note then the stop's", stop.Detail)
	}
}

// funcNemesis is a nemesis whose fault start returns.
type funcNemesis struct {
	name  string
	start func() *Fault
}

func (f funcNemesis) Name() string { return f.name }
func (f funcNemesis) Start(context.Context, Env, *rand.Rand) (*Fault, error) {
	return f.start(), nil
}

// TestCutIndex: the snapshot partition's "behind" index is the cut follower's own last index
// when it answers, else the leader's (an upper bound): a follower too slow to answer on a
// loaded machine no longer skips the fault (make test saw "status of n2 after the cut:
// context deadline exceeded").
func TestCutIndex(t *testing.T) {
	f := newFake()
	f.index = map[string]uint64{"n1": 90, "n2": 120}
	if i, whose, err := cutIndex(context.Background(), f, "n1"); err != nil || i != 90 || !strings.Contains(whose, "own") {
		t.Fatalf("answering follower: %d %q %v, want its own 90", i, whose, err)
	}
	f.mute = map[string]bool{"n1": true}
	if i, whose, err := cutIndex(context.Background(), f, "n1"); err != nil || i != 120 || !strings.Contains(whose, "leader n2") {
		t.Fatalf("silent follower: %d %q %v, want the leader's 120", i, whose, err)
	}
}
