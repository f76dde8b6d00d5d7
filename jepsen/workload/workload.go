// Package workload generates the client load of a chaos run over cellmap's public HTTP API
// and records every operation (invoke, then ok, fail or info) in the history.
//
// A workload is a [Workload]: Run makes operations while the episode's faults happen, Final
// makes the final reads after the faults healed. Its checker lives in package check under the
// same name. To add a workload (e.g. the cells data plane), implement Workload in a new file
// // here, add it to [Catalog], and add its checker to check.Catalog; nothing else changes. A
// workload that needs processes of its own (the cells workload's conductors) gets them
// through [Env.Hosts], one-time setup through [Preparer], and faults of its own through
// [NemesisProvider].
package workload

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/jepsen/history"
	"github.com/cellmap/cellmap/jepsen/nemesis"
)

// ErrUnknown: no workload has that name.
var ErrUnknown = errors.New("workload: unknown workload")

// Env is what a workload runs against.
type Env struct {
	// Rec records the operations.
	Rec *history.Recorder
	// Nodes are the node ids; Client returns a client of one node.
	Nodes  []string
	Client func(id string) *client.Client
	// Limiter paces all workloads together.
	Limiter *Limiter
	// Seed and Episode make keys and values reproducible and unique per episode.
	Seed    uint64
	Episode int
	// OpCtx outlives the episode's load phase: operations in flight when the load stops
	// finish with their own timeouts instead of being cancelled.
	OpCtx context.Context
	// Hosts runs extra processes (e.g. cell conductors) in namespaces of their own; nil when
	// the runner offers none.
	Hosts Hosts
}

// Hosts lets a workload run processes of its own beside the cluster, each on a host (network
// namespace) of its own on the test bridge. The runner stops them and removes their
// namespaces with everything else, heals their filters and restarts them after each episode.
type Hosts interface {
	// AddHost gives name a namespace on the test bridge (once) and returns its address.
	AddHost(ctx context.Context, name string) (ip string, err error)
	// Binary returns a program of the module built for this run (e.g. "cellconductor").
	Binary(ctx context.Context, program string) (string, error)
	// DataDir is a directory for name's data, inside the run directory.
	DataDir(name string) string
	// Start runs argv on host name (in its own process group, output in the run's node logs)
	// unless it is running; Restart SIGKILLs it and starts the same command line again.
	Start(name string, argv []string) error
	Restart(name string) error
	Running(name string) bool
	// Isolate cuts host name off from the whole test network: every inbound and outbound
	// packet is dropped and its TCP connections are aborted. Heal removes the filter.
	Isolate(ctx context.Context, name string) error
	Heal(ctx context.Context, name string) error
	// GossipAddrs are the cellmapd nodes' gossip addresses.
	GossipAddrs() []string
	// CellArgs are the flags that secure a conductor of cell at ip as the cluster is secured:
	// TLS with a certificate of the run's CA for that cell and address, and the gossip key.
	CellArgs(cellUUID, ip string) ([]string, error)
}

// HostsEnv is the fault environment of nemeses that workloads bring along and that act on
// the workload's hosts; the runner's environment implements it. Record writes an event of the
// nemesis's own (e.g. when a cut cell was seen down) into the history.
type HostsEnv interface {
	nemesis.Env
	Hosts() Hosts
	Record(e history.Event) history.Event
}

// Preparer is implemented by workloads that set something up once per run, after the cluster
// formed and before the first episode (e.g. start cell conductors and map their cells). A
// failure makes the run INCOMPLETE.
type Preparer interface {
	Prepare(ctx context.Context, env *Env) error
}

// Workload is one kind of client load.
type Workload interface {
	// Name is the workload's name (also its checker's name in package check).
	Name() string
	// Run makes operations until ctx ends.
	Run(ctx context.Context, env *Env) error
	// Final runs after the faults healed and the cluster converged.
	Final(ctx context.Context, env *Env) error
}

// Catalog returns a fresh instance of every workload, in run order.
func Catalog() []Workload {
	return []Workload{NewRegister(DefaultRegisterConfig()), NewSet(DefaultSetConfig()), NewCells(DefaultCellsConfig()),
		NewWatch(DefaultWatchConfig()), NewGlobals(DefaultGlobalsConfig())}
}

// Names lists every workload name, in catalog order.
func Names() []string {
	var names []string
	for _, w := range Catalog() {
		names = append(names, w.Name())
	}
	return names
}

// Lookup returns a fresh workload called name.
func Lookup(name string) (Workload, error) {
	var names []string
	for _, w := range Catalog() {
		if w.Name() == name {
			return w, nil
		}
		names = append(names, w.Name())
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknown, name, strings.Join(names, ", "))
}

// ClassifyWrite says what a write's error means: fail when it certainly did not happen,
// info when its fate is unknown. A precondition failure (412) is a fail with the code
// revision_mismatch or already_exists, which checkers use as a definite answer.
func ClassifyWrite(err error) (history.Kind, string) {
	if err == nil {
		return history.KindOK, ""
	}
	code := client.CodeOf(err)
	if client.IsOutcomeUnknown(err) {
		return history.KindInfo, orMessage(code, err)
	}
	switch code {
	case api.CodeRevisionMismatch, api.CodeAlreadyExists, api.CodeNotFound, api.CodeNoLeader, api.CodeBusy,
		api.CodeInvalid, api.CodeBadRequest, api.CodeStale, api.CodeTooLarge:
		return history.KindFail, code
	case "":
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return history.KindFail, "dial: " + orMessage("", err)
		}
	}
	return history.KindInfo, orMessage(code, err)
}

// requestRE matches the method and URL that net/http puts in front of transport errors.
var requestRE = regexp.MustCompile(`(Get|Put|Post|Delete|Patch) "[^"]*": `)

// orMessage is code when set, else the error text without the request's method and URL.
func orMessage(code string, err error) string {
	if code != "" {
		return code
	}
	msg := requestRE.ReplaceAllString(err.Error(), "")
	return trim(strings.Replace(msg, client.ErrUnknownOutcome.Error(), "sent, outcome unknown", 1))
}

func trim(s string) string {
	if len(s) > 160 {
		return s[:160] + "..."
	}
	return s
}

// uuidFrom makes a random (version 4 shaped) uuid from rng.
func uuidFrom(rng *rand.Rand) string {
	a, b := rng.Uint64(), rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xfff, 0x8000|(b>>48)&0x3fff, b&0xffffffffffff)
}

// Limiter hands out operation permits at a fixed rate shared by all workers.
type Limiter struct {
	ch chan struct{}
}

// NewLimiter emits rate permits per second until ctx ends.
func NewLimiter(ctx context.Context, rate float64) *Limiter {
	l := &Limiter{ch: make(chan struct{})}
	if rate <= 0 {
		rate = 1
	}
	go func() {
		t := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				select {
				case l.ch <- struct{}{}:
				case <-ctx.Done():
					return
				default:
				}
			}
		}
	}()
	return l
}

// Wait blocks for a permit; false when ctx ended first.
func (l *Limiter) Wait(ctx context.Context) bool {
	select {
	case <-l.ch:
		return true
	case <-ctx.Done():
		return false
	}
}

// NemesisProvider is implemented by workloads that bring faults of their own (e.g. a cells
// workload cutting a cell conductor's gossip and HTTP), or a built-in fault with deliberate
// operations of the workload inside its window (the register workload's isolate-leader); the
// runner registers them with the fault driver (replacing a built-in one of the same name),
// and --nemesis can name them like the built-in ones.
type NemesisProvider interface {
	Nemeses() []nemesis.Nemesis
}
