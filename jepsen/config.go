// Package jepsen is cellmap's chaos and partition harness, in the style of Jepsen: it starts
// a cellmapd cluster with one network namespace per node, runs client workloads over the
// public HTTP API while a seeded schedule of faults (partitions, packet loss, latency,
// pauses, crashes, membership changes, gossip cuts) hits the cluster, heals everything,
// and checks the recorded history: linearizability (porcupine), lost or unexpected set
// elements, monotonic stale reads, one leader per term and replica convergence.
//
// Verdicts are PASS, FAIL and INCOMPLETE (exit codes 0, 1, 2; 3 when the machine cannot host
// the test network). Everything lands in a run directory; history.jsonl there can be
// re-checked offline.
//
// Layout: netns (namespaces, bridge, nft rules), cluster (server processes and status),
// nemesis (faults and their seeded schedule), workload (client load), history (the record),
// check (the checkers and the verdict), report (HTML, PNG, summary).
package jepsen

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cellmap/cellmap/jepsen/nemesis"
	"github.com/cellmap/cellmap/jepsen/netns"
	"github.com/cellmap/cellmap/jepsen/workload"
)

// Exit codes of a run.
const (
	ExitPass       = 0
	ExitFail       = 1
	ExitIncomplete = 2
	ExitCannotRun  = 3
)

// Config configures a run.
type Config struct {
	// Nodes is the cluster size (3 in CI, 5 in long runs).
	Nodes int
	// Episodes and EpisodeTime: the run is Episodes rounds of EpisodeTime of load and faults,
	// each followed by a full heal, convergence wait and final reads.
	Episodes    int
	EpisodeTime time.Duration
	// Nemesis selects the faults: "mixed" (default), "all", "none" or a comma list.
	Nemesis string
	// Seed fixes the fault schedule and the workloads' random choices (0: pick one).
	Seed uint64
	// Out is the run directory ("": ./jepsen-runs/<timestamp>-seed<S>).
	Out string
	// UnsafeReads builds the server with the broken read mode (reads skip the leadership
	// check); the run must FAIL.
	UnsafeReads bool
	// FaultQuota builds the server with the broken quota mode (claims ignore the limits); a
	// run of the globals workload must FAIL.
	FaultQuota bool
	// ServerBinary is a prebuilt cellmapd ("": build it from the module).
	ServerBinary string
	// Workloads to run (default register and set).
	Workloads []string
	// Rate is the total client operations per second across workloads.
	Rate float64
	// MinOpsBeforeFault: fewer successful operations before an episode's first fault make
	// the run INCOMPLETE.
	MinOpsBeforeFault int
	// CheckTimeout bounds the linearizability check (running out is a FAIL).
	CheckTimeout time.Duration
	// FormTimeout bounds forming the cluster; HealTimeout the convergence wait after each
	// episode; FinalTimeout the final reads.
	FormTimeout, HealTimeout, FinalTimeout time.Duration
	// StatusEvery is the status poll interval.
	StatusEvery time.Duration
	// Schedule shapes the fault schedule.
	Schedule nemesis.ScheduleConfig
	// KeepAll keeps node logs, data and the HTML view on PASS too.
	KeepAll bool
	// Log receives progress lines (nil: discarded).
	Log io.Writer
}

// DefaultConfig returns the CI-sized run: 3 nodes, 3 episodes of 60 s, mixed nemeses.
func DefaultConfig() *Config {
	return &Config{
		Nodes: 3, Episodes: 3, EpisodeTime: 60 * time.Second, Nemesis: "mixed",
		Workloads: []string{"register", "set"}, Rate: 100, MinOpsBeforeFault: 20,
		CheckTimeout: 60 * time.Second, FormTimeout: 60 * time.Second, HealTimeout: 60 * time.Second,
		FinalTimeout: 60 * time.Second, StatusEvery: 250 * time.Millisecond,
		Schedule: nemesis.DefaultScheduleConfig(),
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Nodes < 1 || c.Nodes > 9:
		return fmt.Errorf("jepsen: %d nodes, want 1..9", c.Nodes)
	case c.Episodes < 1 || c.Episodes > 1000:
		return errors.New("jepsen: Episodes must be 1..1000")
	case c.EpisodeTime < 5*time.Second || c.EpisodeTime > 24*time.Hour:
		return errors.New("jepsen: EpisodeTime must be 5s..24h")
	case c.Rate <= 0 || c.Rate > 2000:
		return errors.New("jepsen: Rate must be in (0, 2000] ops/s")
	case c.MinOpsBeforeFault < 0:
		return errors.New("jepsen: MinOpsBeforeFault must be >= 0")
	case c.CheckTimeout <= 0 || c.FormTimeout <= 0 || c.HealTimeout <= 0 || c.FinalTimeout <= 0 || c.StatusEvery <= 0:
		return errors.New("jepsen: timeouts and StatusEvery must be positive")
	case len(c.Workloads) == 0:
		return errors.New("jepsen: at least one workload")
	}
	if c.Nodes > netns.MaxNodes {
		return fmt.Errorf("jepsen: at most %d nodes", netns.MaxNodes)
	}
	for _, w := range c.Workloads {
		if _, err := workload.Lookup(w); err != nil {
			return err
		}
	}
	if _, err := nemesis.ResolveFor(c.Nemesis, c.Nodes, c.Workloads); err != nil {
		return err
	}
	return c.Schedule.Validate()
}
