package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/jepsen/check"
	"github.com/cellmap/cellmap/jepsen/history"
	"github.com/cellmap/cellmap/jepsen/nemesis"
	"github.com/cellmap/cellmap/jepsen/netns"
)

// fakeCells is a cluster whose nodes answer GET /v1/cells with the health the fake hosts
// decide: a cell is down while its conductor is isolated, and after the heal up again only
// when rejoin is set or the conductor was restarted. Its servers API places a server by its
// flavor (a cell's own flavor in that cell, others alternately), lists the servers of a down
// cell as UNKNOWN minimal records and refuses their deletes with 503 cell_down.
type fakeCells struct {
	mu        sync.Mutex
	isolated  map[string]bool
	gone      map[string]bool // down although healed (the pool did not take it back)
	rejoin    bool
	neverDown bool
	neverUp   bool
	calls     []string
	events    []history.Event
	rec       *history.Recorder // also gets the events recorded through HostsEnv, when set
	servers   map[string]fakeServer
	placed    int
	// cellsAsked counts the GET /v1/cells requests (every node's view of cell health).
	cellsAsked int
	srv        *httptest.Server
}

type fakeServer struct{ name, cell, cellName string }

func newFakeCells(t *testing.T) *fakeCells {
	f := &fakeCells{isolated: map[string]bool{}, gone: map[string]bool{}, servers: map[string]fakeServer{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/cells", f.cells)
	mux.HandleFunc("POST /v1/servers", f.createServer)
	mux.HandleFunc("GET /v1/servers", f.listServers)
	mux.HandleFunc("DELETE /v1/servers/{id}", f.deleteServer)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// down reports whether the cell called name is down (f.mu held).
func (f *fakeCells) down(name string) bool {
	return (f.isolated[name] && !f.neverDown) || f.gone[name] || f.neverUp
}

func (f *fakeCells) cells(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cellsAsked++
	var out api.CellList
	for _, c := range CellSpecs() {
		st := "up"
		if f.down(c.Name) {
			st = "down"
		}
		out.Cells = append(out.Cells, api.Cell{UUID: c.UUID, Name: c.Name, Health: &api.CellHealth{Status: st}})
	}
	json.NewEncoder(w).Encode(out)
}

func (f *fakeCells) createServer(w http.ResponseWriter, r *http.Request) {
	var req api.ServerCreate
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	specs := CellSpecs()
	cell := specs[f.placed%len(specs)]
	for _, c := range specs {
		if c.Flavor == req.Server.FlavorRef {
			cell = c
		}
	}
	f.placed++
	id := fmt.Sprintf("5e000000-0000-4000-8000-%012d", f.placed)
	f.servers[id] = fakeServer{name: req.Server.Name, cell: cell.UUID, cellName: cell.Name}
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(api.ServerResponse{Server: api.Server{ID: id, Name: req.Server.Name, Status: api.StatusBuild}})
}

func (f *fakeCells) listServers(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := api.ServerList{Servers: []api.Server{}, DownCells: []string{}}
	for _, c := range CellSpecs() {
		if f.down(c.Name) {
			out.DownCells = append(out.DownCells, c.UUID)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(f.servers)) {
		s := f.servers[id]
		if f.down(s.cellName) {
			out.Servers = append(out.Servers, api.Server{ID: id, Status: api.StatusUnknown, CellUUID: s.cell})
			continue
		}
		out.Servers = append(out.Servers, api.Server{ID: id, Name: s.name, Status: api.StatusActive, CellUUID: s.cell})
	}
	json.NewEncoder(w).Encode(out)
}

func (f *fakeCells) deleteServer(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.servers[r.PathValue("id")]
	switch {
	case !ok:
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(api.Error{Detail: api.ErrorDetail{Code: api.CodeNotFound, Message: "no such server"}})
	case f.down(s.cellName):
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(api.Error{Detail: api.ErrorDetail{Code: api.CodeCellDown, Message: "cell down"}})
	default:
		delete(f.servers, r.PathValue("id"))
		w.WriteHeader(http.StatusNoContent)
	}
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
func (f *fakeCells) CellArgs(cellUUID, ip string) ([]string, error) {
	return []string{"--tls-cert", "cell-" + cellUUID + ".pem"}, nil
}
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
	if f.rec != nil {
		e = f.rec.Record(e)
	}
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

// fastCut is the conductor cut with the waits shortened for the fakes, its operations made
// by a cells workload running against f and recorded in rec.
func fastCut(f *fakeCells, rec *history.Recorder) conductorCut {
	w := NewCells(DefaultCellsConfig())
	w.setEnv(&Env{Rec: rec, Nodes: f.Nodes(), Client: f.Client, Seed: 1, Episode: 1, OpCtx: context.Background()})
	return conductorCut{w: w, t: cutTiming{DownWait: time.Second, UpWait: 500 * time.Millisecond, UpBefore: 300 * time.Millisecond,
		KeepMin: 50 * time.Millisecond, KeepMax: 50 * time.Millisecond, Poll: 20 * time.Millisecond,
		Deletes: 3, KnownWait: 2 * time.Second}}
}

// runCut runs one conductor cut through the driver's steps and returns the phases recorded.
func runCut(t *testing.T, f *fakeCells) ([]string, *nemesis.Fault, string) {
	t.Helper()
	env := hostsEnv{nodeEnv{f}}
	fault, err := fastCut(f, history.NewRecorder(nil)).Start(context.Background(), env, rand.New(rand.NewPCG(1, 1)))
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
	if _, err := fastCut(f, history.NewRecorder(nil)).Start(context.Background(), nodeEnv{f}, rand.New(rand.NewPCG(1, 1))); !errors.Is(err, nemesis.ErrSkipped) {
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
	_, err := fastCut(f, history.NewRecorder(nil)).Start(context.Background(), hostsEnv{nodeEnv{f}}, rand.New(rand.NewPCG(1, 1)))
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
	fault, err := fastCut(f, history.NewRecorder(nil)).Start(context.Background(), hostsEnv{nodeEnv{f}}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fault.Hold(ctx)
	f.mu.Lock()
	asked := f.cellsAsked
	f.mu.Unlock()
	note, err := fault.Stop(context.Background())
	if err != nil || !strings.Contains(note, "the episode is over") {
		t.Fatalf("stop after the episode: %q %v", note, err)
	}
	if f.cellsAsked != asked {
		t.Fatalf("the heal asked the nodes for the cell's health %d times after the episode ended; want no wait", f.cellsAsked-asked)
	}
	for _, c := range f.calls {
		if strings.HasPrefix(c, "restart") {
			t.Fatalf("restarted after the episode: %v", f.calls)
		}
	}
}

// The cut does not leave its window to the random load: it lists and deletes known servers
// of the cut cell itself while every node reports the cell down (creating servers with the
// cell's own flavor first when it knows too few), so the cells checker always has deletes
// refused with cell_down and listings inside the window to judge.
func TestConductorCutExercisesItsWindow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		seed    uint64 // picks the cell: 1 cell1, 4 cell2
		cell    string
		known   int // servers created and listed by the workload before the cut
		creates int // creates the cut itself must make
	}{
		{"cell1, no servers yet", 1, "cell1", 0, 3},
		{"cell2, no servers yet", 4, "cell2", 0, 3},
		{"cell1, servers known from a listing", 1, "cell1", 12, 0},
		{"cell2, too few known", 4, "cell2", 4, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCells(t)
			f.rejoin = true
			rec := history.NewRecorder(nil)
			info, _ := json.Marshal(check.RunInfo{Workloads: []string{CellsName}})
			rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseRunStart, Data: info})
			f.rec = rec
			cut := fastCut(f, rec)
			env := cut.w.currentEnv()
			for i := 0; i < tc.known; i++ {
				cut.w.create(env, 1, "n1", 0, FlavorSmall, fmt.Sprintf("before-%d", i))
			}
			if tc.known > 0 {
				if err := cut.w.list(env.OpCtx, env, 1, "n1", ""); err != nil {
					t.Fatal(err)
				}
			}
			before := len(rec.Events())
			d := nemesis.NewDriver(hostsEnv{nodeEnv{f}}, rec)
			d.Register(cut)
			d.Run(context.Background(), nemesis.Plan{Steps: []nemesis.Step{{Name: ConductorCut, Hold: time.Second, Seed: tc.seed}}})
			if err := cut.w.list(env.OpCtx, env, 1, "n2", history.ListFinal); err != nil {
				t.Fatal(err)
			}

			creates := 0
			for _, e := range rec.Events()[before:] {
				if e.Kind == history.KindInvoke && e.F == FCreate {
					creates++
				}
			}
			res := check.Analyze(rec.Events(), check.Options{}).Checkers
			var cells *check.CellsFinding
			for _, r := range res {
				if r.Name == "cells" {
					if !r.Valid {
						t.Fatalf("cells checker: %s", r.Summary)
					}
					cells, _ = r.Details.(*check.CellsFinding)
				}
			}
			if cells == nil || len(cells.Windows) != 1 {
				t.Fatalf("no cut window judged: %+v", cells)
			}
			w := cells.Windows[0]
			if w.Conductor != tc.cell || w.Down < 0 || w.Listings < 2 || w.Deletes != 3 || w.Refused != 3 || creates != tc.creates {
				t.Fatalf("window %+v after %d creates by the cut, want %s cut, 2 listings, 3 deletes refused with cell_down, %d creates",
					w, creates, tc.cell, tc.creates)
			}
			if got := len(cut.w.knownIn(w.Cell)); got < 3 {
				t.Fatalf("the refused deletes did not release their servers: %d deletable in the cut cell", got)
			}
		})
	}
}
