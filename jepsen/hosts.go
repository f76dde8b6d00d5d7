package jepsen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/cellmap/cellmap/jepsen/cluster"
	"github.com/cellmap/cellmap/jepsen/history"
	"github.com/cellmap/cellmap/jepsen/netns"
	"github.com/cellmap/cellmap/jepsen/workload"
)

// hosts runs the workloads' extra processes (the cell conductors), each in a namespace of its
// own on the test bridge; it implements workload.Hosts.
type hosts struct {
	net      *netns.Net
	cl       *cluster.Cluster
	dir      string // the run's nodes directory (data and logs)
	binDir   string // where programs are built
	prebuilt string // a directory holding prebuilt programs ("" when none)

	mu   sync.Mutex
	bins map[string]string
	byNm map[string]netns.Host
}

var _ workload.Hosts = (*hosts)(nil)

func newHosts(net *netns.Net, cl *cluster.Cluster, dir, binDir, prebuilt string) *hosts {
	return &hosts{net: net, cl: cl, dir: dir, binDir: binDir, prebuilt: prebuilt, bins: map[string]string{}, byNm: map[string]netns.Host{}}
}

func (h *hosts) host(name string) (netns.Host, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	x, ok := h.byNm[name]
	if !ok {
		return netns.Host{}, fmt.Errorf("jepsen: no host %q", name)
	}
	return x, nil
}

func (h *hosts) AddHost(ctx context.Context, name string) (string, error) {
	x, err := h.net.AddHost(ctx, name)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	h.byNm[name] = x
	h.mu.Unlock()
	return x.IP, nil
}

// Binary returns program next to a prebuilt server binary when there is one, else builds it
// once into the run's build directory.
func (h *hosts) Binary(ctx context.Context, program string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.bins[program]; ok {
		return p, nil
	}
	if h.prebuilt != "" {
		if p := filepath.Join(h.prebuilt, program); isExecutable(p) {
			h.bins[program] = p
			return p, nil
		}
	}
	if h.binDir == "" {
		return "", errors.New("jepsen: no build directory")
	}
	p, err := cluster.BuildCommand(ctx, h.binDir, program)
	if err != nil {
		return "", err
	}
	h.bins[program] = p
	return p, nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

func (h *hosts) DataDir(name string) string { return filepath.Join(h.dir, name, "data") }

func (h *hosts) Start(name string, argv []string) error {
	x, err := h.host(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(h.DataDir(name), 0o755); err != nil {
		return err
	}
	return h.cl.StartProc(name, x.NS, argv)
}

func (h *hosts) Restart(name string) error { return h.cl.RestartProc(name) }
func (h *hosts) Running(name string) bool  { return h.cl.ProcRunning(name) }
func (h *hosts) GossipAddrs() []string     { return h.cl.GossipAddrs() }

// Isolate drops every packet between the host and the test subnet (the nodes, the other
// hosts and the harness) and aborts its TCP connections.
func (h *hosts) Isolate(ctx context.Context, name string) error {
	x, err := h.host(name)
	if err != nil {
		return err
	}
	all := []string{netns.Subnet}
	if err := h.net.SetRules(ctx, x.Index, netns.Rules{DropFrom: all, DropTo: all}); err != nil {
		return err
	}
	return h.net.CutConns(ctx, x.Index, all, nil)
}

func (h *hosts) Heal(ctx context.Context, name string) error {
	x, err := h.host(name)
	if err != nil {
		return err
	}
	return h.net.SetRules(ctx, x.Index, netns.Rules{})
}

// healAll removes every host's filter and starts again the processes that are not running
// (the end-of-episode heal); it returns notes for the history.
func (h *hosts) healAll(ctx context.Context) []string {
	var notes []string
	for _, x := range h.net.Hosts() {
		if err := h.net.SetRules(ctx, x.Index, netns.Rules{}); err != nil {
			notes = append(notes, fmt.Sprintf("%s rules: %v", x.Name, err))
		}
	}
	for _, name := range h.cl.ProcNames() {
		started, err := h.cl.EnsureProc(name)
		switch {
		case err != nil:
			notes = append(notes, fmt.Sprintf("%s restart: %v", name, err))
		case started:
			notes = append(notes, "restarted "+name)
		}
	}
	return notes
}

// Hosts and Record make the runner's environment a workload.HostsEnv, so that nemeses
// brought by workloads (conductor-cut) act on the workloads' hosts and record their events.
func (e *env) Hosts() workload.Hosts { return e.hosts }

func (e *env) Record(ev history.Event) history.Event { return e.record(ev) }

var _ workload.HostsEnv = (*env)(nil)

// CellArgs implements workload.Hosts with the cluster's CA and gossip key.
func (h *hosts) CellArgs(cellUUID, ip string) ([]string, error) { return h.cl.CellArgs(cellUUID, ip) }
