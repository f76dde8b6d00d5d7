package workload

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/jepsen/history"
	"github.com/cellmap/cellmap/jepsen/nemesis"
	"github.com/cellmap/cellmap/jepsen/netns"
)

// fakeCells is a cluster whose nodes answer GET /v1/cells with the health the fake hosts
// decide: a cell is down while its conductor is isolated, and after the heal up again only
// when rejoin is set or the conductor was restarted.
type fakeCells struct {
	mu        sync.Mutex
	isolated  map[string]bool
	gone      map[string]bool // down although healed (the pool did not take it back)
	rejoin    bool
	neverDown bool
	neverUp   bool
	calls     []string
	events    []history.Event
	srv       *httptest.Server
}

func newFakeCells(t *testing.T) *fakeCells {
	f := &fakeCells{isolated: map[string]bool{}, gone: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var out api.CellList
		for _, c := range CellSpecs() {
			st := "up"
			if (f.isolated[c.Name] && !f.neverDown) || f.gone[c.Name] || f.neverUp {
				st = "down"
			}
			out.Cells = append(out.Cells, api.Cell{UUID: c.UUID, Name: c.Name, Health: &api.CellHealth{Status: st}})
		}
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCells) call(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

// workload.Hosts
func (f *fakeCells) AddHost(context.Context, string) (string, error) { return "10.77.0.9", nil }
func (f *fakeCells) Binary(context.Context, string) (string, error)  { return "/bin/true", nil }
func (f *fakeCells) DataDir(name string) string                      { return "/tmp/" + name }
func (f *fakeCells) Start(name string, argv []string) error          { f.call("start " + name); return nil }
func (f *fakeCells) Running(string) bool                             { return true }
func (f *fakeCells) GossipAddrs() []string                           { return []string{"10.77.0.1:8482"} }
func (f *fakeCells) Isolate(_ context.Context, name string) error {
	f.mu.Lock()
	f.isolated[name] = true
	f.mu.Unlock()
	f.call("isolate " + name)
	return nil
}
func (f *fakeCells) Heal(_ context.Context, name string) error {
	f.mu.Lock()
	f.isolated[name] = false
	f.gone[name] = !f.rejoin && !f.neverDown
	f.mu.Unlock()
	f.call("heal " + name)
	return nil
}
func (f *fakeCells) Restart(name string) error {
	f.mu.Lock()
	f.gone[name] = false
	f.mu.Unlock()
	f.call("restart " + name)
	return nil
}

// nemesis.Env (only Nodes and Client matter here)
func (f *fakeCells) Nodes() []string                        { return []string{"n1", "n2"} }
func (f *fakeCells) IP(string) string                       { return "" }
func (f *fakeCells) RaftAddr(string) string                 { return "" }
func (f *fakeCells) GossipPort() int                        { return 8482 }
func (f *fakeCells) Leader(context.Context) (string, error) { return "n1", nil }
func (f *fakeCells) Status(context.Context, string) (*api.ClusterStatus, error) {
	return nil, errors.New("no")
}
func (f *fakeCells) Client(string) *client.Client                            { return client.New(f.srv.URL, nil) }
func (f *fakeCells) SetRules(context.Context, string, netns.Rules) error     { return nil }
func (f *fakeCells) CutConns(context.Context, string, []string, []int) error { return nil }
func (f *fakeCells) Kill(string) error                                       { return nil }
func (f *fakeCells) Pause(string) error                                      { return nil }
func (f *fakeCells) Resume(string) error                                     { return nil }
func (f *fakeCells) SetDelay(context.Context, string, int) error             { return nil }
func (f *fakeCells) ReadLog(string, int64) ([]byte, int64, error)            { return nil, 0, nil }

func (f *fakeCells) Record(e history.Event) history.Event {
	f.mu.Lock()
	f.events = append(f.events, e)
	f.mu.Unlock()
	return e
}

// nodeEnv adapts fakeCells to nemesis.Env, whose Start(id) clashes with Hosts.Start.
type nodeEnv struct{ *fakeCells }

func (n nodeEnv) Start(id string) error { return nil }

var _ HostsEnv = hostsEnv{}

// hostsEnv is a HostsEnv built from the fake: nemesis.Env from nodeEnv, Hosts from the fake.
type hostsEnv struct{ nodeEnv }

func (h hostsEnv) Hosts() Hosts { return h.fakeCells }

// fastCut is the conductor cut with the waits shortened for the fakes.
func fastCut() conductorCut {
	return conductorCut{t: cutTiming{DownWait: time.Second, UpWait: 500 * time.Millisecond, UpBefore: 300 * time.Millisecond,
		KeepMin: 50 * time.Millisecond, KeepMax: 50 * time.Millisecond, Poll: 20 * time.Millisecond}}
}

// runCut runs one conductor cut through the driver's steps and returns the phases recorded.
func runCut(t *testing.T, f *fakeCells) ([]string, *nemesis.Fault, string) {
	t.Helper()
	env := hostsEnv{nodeEnv{f}}
	fault, err := fastCut().Start(context.Background(), env, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	note := fault.Hold(context.Background())
	stop, err := fault.Stop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var phases []string
	for _, e := range f.events {
		var ce history.CellEvent
		json.Unmarshal(e.Data, &ce)
		if e.Kind == history.KindPhase && e.F == history.PhaseCellsRecovery {
			phases = append(phases, e.F)
			continue
		}
		if e.Kind != history.KindNemesis || e.F != ConductorCut || ce.Cell == "" || ce.Conductor != fault.Targets[0] {
			t.Fatalf("bad event %+v", e)
		}
		p := e.Phase
		if ce.Restarted {
			p += "(restarted)"
		}
		phases = append(phases, p)
	}
	return phases, fault, note + " | " + stop
}

func TestConductorCut(t *testing.T) {
	f := newFakeCells(t)
	f.rejoin = true
	phases, fault, notes := runCut(t, f)
	if strings.Join(phases, ",") != "cell-down,heal,cell-up" || !strings.Contains(fault.Detail, "cut off") {
		t.Fatalf("phases %v, detail %q", phases, fault.Detail)
	}
	cell := fault.Targets[0]
	if strings.Join(f.calls, ",") != "isolate "+cell+",heal "+cell || !strings.Contains(notes, "reported cell "+cell+" up") {
		t.Fatalf("calls %v, notes %q", f.calls, notes)
	}
}

func TestConductorCutRestartsAConductorThePoolLost(t *testing.T) {
	f := newFakeCells(t)
	phases, fault, notes := runCut(t, f)
	if strings.Join(phases, ",") != "cell-down,heal,cell-up-timeout,cell-up(restarted)" {
		t.Fatalf("phases %v", phases)
	}
	if cell := fault.Targets[0]; strings.Join(f.calls, ",") != "isolate "+cell+",heal "+cell+",restart "+cell ||
		!strings.Contains(notes, "the pool did not take the conductor back; restarting it") {
		t.Fatalf("calls %v, notes %q", f.calls, notes)
	}
}

func TestConductorCutNeverDown(t *testing.T) {
	f := newFakeCells(t)
	f.neverDown = true
	phases, _, notes := runCut(t, f)
	if strings.Join(phases, ",") != "cell-down-timeout,heal,cell-up" || !strings.Contains(notes, "not reported down by every node") {
		t.Fatalf("phases %v, notes %q", phases, notes)
	}
}

func TestConductorCutNeedsHosts(t *testing.T) {
	f := newFakeCells(t)
	if _, err := fastCut().Start(context.Background(), nodeEnv{f}, rand.New(rand.NewPCG(1, 1))); !errors.Is(err, nemesis.ErrSkipped) {
		t.Fatalf("got %v, want ErrSkipped", err)
	}
}

// A cell that is not up on every node before the cut has its conductor restarted first (and
// that is recorded); one that does not come back is not cut: its "down" would prove nothing.
func TestConductorCutStartsFromAnUpCell(t *testing.T) {
	f := newFakeCells(t)
	f.rejoin = true
	for _, c := range CellSpecs() {
		f.gone[c.Name] = true
	}
	phases, fault, _ := runCut(t, f)
	cell := fault.Targets[0]
	if strings.Join(phases, ",") != history.PhaseCellsRecovery+",cell-down,heal,cell-up" ||
		strings.Join(f.calls, ",") != "restart "+cell+",isolate "+cell+",heal "+cell || !strings.Contains(f.events[0].Detail, "not up on every node before a conductor cut") {
		t.Fatalf("phases %v, calls %v, %+v", phases, f.calls, f.events[0])
	}

	f = newFakeCells(t)
	f.neverUp = true
	_, err := fastCut().Start(context.Background(), hostsEnv{nodeEnv{f}}, rand.New(rand.NewPCG(1, 1)))
	if !errors.Is(err, nemesis.ErrSkipped) || !strings.Contains(err.Error(), "even after restarting its conductor (n1 down, n2 down)") {
		t.Fatalf("got %v, calls %v", err, f.calls)
	}
	for _, c := range f.calls {
		if strings.HasPrefix(c, "isolate") {
			t.Fatalf("a cell that is not up was cut: %v", f.calls)
		}
	}
}

func TestClassifyCells(t *testing.T) {
	for _, c := range []struct {
		err  error
		kind history.Kind
	}{
		{nil, history.KindOK},
		{&client.Error{Status: 503, Code: api.CodeCellDown}, history.KindFail},
		{&client.Error{Status: 503, Code: api.CodeProjectCellDown}, history.KindFail},
		{&client.Error{Status: 404, Code: api.CodeNotFound}, history.KindFail},
		{&client.Error{Status: 503, Code: api.CodeOutcomeUnknown}, history.KindInfo},
		{context.DeadlineExceeded, history.KindInfo},
	} {
		if got, _ := ClassifyCells(c.err); got != c.kind {
			t.Errorf("%v: got %s, want %s", c.err, got, c.kind)
		}
	}
}

// When the episode ends during the hold, the heal does not wait for the cell (the final
// phase, or the teardown after an interrupt, takes over).
func TestConductorCutEpisodeOver(t *testing.T) {
	f := newFakeCells(t)
	fault, err := fastCut().Start(context.Background(), hostsEnv{nodeEnv{f}}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fault.Hold(ctx)
	start := time.Now()
	note, err := fault.Stop(context.Background())
	if err != nil || !strings.Contains(note, "the episode is over") || time.Since(start) > 200*time.Millisecond {
		t.Fatalf("stop after the episode: %q %v (%v)", note, err, time.Since(start))
	}
	for _, c := range f.calls {
		if strings.HasPrefix(c, "restart") {
			t.Fatalf("restarted after the episode: %v", f.calls)
		}
	}
}
