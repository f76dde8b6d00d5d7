package workload

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/jepsen/check"
	"github.com/cellmap/cellmap/jepsen/history"
	"github.com/cellmap/cellmap/jepsen/nemesis"
	"github.com/cellmap/cellmap/jepsen/netns"
)

// fakeRegister is a 3-node cluster of instance mappings: n1 leads until it is cut off (any
// packet filter installed), then n2 does. While cut off, n1 refuses writes and, when unsafe,
// answers reads from the state it had at the cut (a node serving reads without confirming
// its leadership); when safe it refuses them (no_leader).
type fakeRegister struct {
	unsafe bool

	mu       sync.Mutex
	cut      bool
	store    map[string]api.InstanceMapping
	snapshot map[string]api.InstanceMapping
	srv      map[string]*httptest.Server
}

func newFakeRegister(t *testing.T, unsafe bool) *fakeRegister {
	f := &fakeRegister{unsafe: unsafe, store: map[string]api.InstanceMapping{}, srv: map[string]*httptest.Server{}}
	for _, id := range f.Nodes() {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /v1/instance-mappings/{uuid}", func(w http.ResponseWriter, r *http.Request) { f.get(w, r, id) })
		mux.HandleFunc("PUT /v1/instance-mappings/{uuid}", func(w http.ResponseWriter, r *http.Request) { f.put(w, r, id) })
		f.srv[id] = httptest.NewServer(mux)
		t.Cleanup(f.srv[id].Close)
	}
	return f
}

func writeErr(w http.ResponseWriter, status int, code string) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(api.Error{Detail: api.ErrorDetail{Code: code, Message: code}})
}

func (f *fakeRegister) get(w http.ResponseWriter, r *http.Request, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	state := f.store
	if f.cut && id == "n1" {
		if !f.unsafe {
			writeErr(w, http.StatusServiceUnavailable, api.CodeNoLeader)
			return
		}
		state = f.snapshot
	}
	m, ok := state[r.PathValue("uuid")]
	if !ok {
		writeErr(w, http.StatusNotFound, api.CodeNotFound)
		return
	}
	w.Header().Set(api.HeaderIndex, strconv.FormatUint(m.Revision, 10))
	json.NewEncoder(w).Encode(m)
}

func (f *fakeRegister) put(w http.ResponseWriter, r *http.Request, id string) {
	var in api.InstanceMappingPut
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeErr(w, http.StatusBadRequest, api.CodeBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cut && id == "n1" {
		writeErr(w, http.StatusServiceUnavailable, api.CodeNoLeader)
		return
	}
	uuid := r.PathValue("uuid")
	m := api.InstanceMapping{InstanceUUID: uuid, ProjectID: in.ProjectID, UserID: in.UserID, Revision: f.store[uuid].Revision + 1}
	f.store[uuid] = m
	w.Header().Set(api.HeaderIndex, strconv.FormatUint(m.Revision, 10))
	json.NewEncoder(w).Encode(m)
}

// nemesis.Env
func (f *fakeRegister) Nodes() []string           { return []string{"n1", "n2", "n3"} }
func (f *fakeRegister) IP(id string) string       { return "10.77.0." + id[1:] }
func (f *fakeRegister) RaftAddr(id string) string { return f.IP(id) + ":8481" }
func (f *fakeRegister) GossipPort() int           { return 8482 }
func (f *fakeRegister) Leader(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cut {
		return "n2", nil
	}
	return "n1", nil
}
func (f *fakeRegister) Status(_ context.Context, id string) (*api.ClusterStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// The cut-off n1 still believes it leads; after the cut n2 leads.
	if id == "n1" || (f.cut && id == "n2") {
		return &api.ClusterStatus{NodeID: id, State: "Leader"}, nil
	}
	return &api.ClusterStatus{NodeID: id, State: "Follower"}, nil
}
func (f *fakeRegister) Client(id string) *client.Client { return client.New(f.srv[id].URL, nil) }
func (f *fakeRegister) SetRules(_ context.Context, _ string, r netns.Rules) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cut := len(r.DropFrom)+len(r.DropTo) > 0
	if cut && !f.cut {
		f.snapshot = map[string]api.InstanceMapping{}
		for k, v := range f.store {
			f.snapshot[k] = v
		}
		f.cut = true
	}
	return nil
}
func (f *fakeRegister) CutConns(context.Context, string, []string, []int) error { return nil }
func (f *fakeRegister) Kill(string) error                                       { return nil }
func (f *fakeRegister) Start(string) error                                      { return nil }
func (f *fakeRegister) Pause(string) error                                      { return nil }
func (f *fakeRegister) Resume(string) error                                     { return nil }
func (f *fakeRegister) SetDelay(context.Context, string, int) error             { return nil }
func (f *fakeRegister) ReadLog(string, int64) ([]byte, int64, error) {
	return nil, 0, errors.New("no logs")
}

// The register workload's isolate-leader proves a stale read deliberately: a node that serves
// reads without confirming its leadership fails linearizability whatever the random load did,
// and a correct node passes with the probe's read refused.
func TestIsolateLeaderProbesForStaleReads(t *testing.T) {
	for _, unsafe := range []bool{true, false} {
		t.Run("unsafe="+strconv.FormatBool(unsafe), func(t *testing.T) {
			f := newFakeRegister(t, unsafe)
			rec := history.NewRecorder(nil)
			info, _ := json.Marshal(check.RunInfo{Workloads: []string{"register"}})
			rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseRunStart, Data: info})
			r := NewRegister(DefaultRegisterConfig())
			r.env = &Env{Rec: rec, Nodes: f.Nodes(), Client: f.Client, Seed: 1, Episode: 1, OpCtx: context.Background()}
			d := nemesis.NewDriver(f, rec)
			for _, n := range r.Nemeses() {
				d.Register(n)
			}
			d.Run(context.Background(), nemesis.Plan{Steps: []nemesis.Step{{Name: IsolateLeader, Hold: 1, Seed: 1}}})

			var reads []history.Event
			var note string
			for _, e := range rec.Events() {
				if e.Workload == "register" && e.F == FRead && e.Kind != history.KindInvoke {
					reads = append(reads, e)
				}
				if e.Kind == history.KindNemesis && e.Phase == history.PhaseStop {
					note = e.Detail
				}
			}
			if len(reads) != 1 || reads[0].Node != "n1" || !strings.Contains(note, "read through the cut-off n1") {
				t.Fatalf("reads %+v, stop note %q: want one read through the cut-off leader", reads, note)
			}
			var lin *check.Result
			for _, c := range check.Analyze(rec.Events(), check.Options{}).Checkers {
				if c.Name == "linearizable" {
					lin = &c
				}
			}
			if lin == nil || lin.Valid == unsafe {
				t.Fatalf("unsafe=%v: linearizability checker %+v", unsafe, lin)
			}
			if !unsafe && reads[0].Kind != history.KindFail {
				t.Fatalf("the correct node answered the probe's read: %+v", reads[0])
			}
		})
	}
}
