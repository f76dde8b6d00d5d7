package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// ScaleReport holds every figure of a scale run.
type ScaleReport struct {
	Nodes       int    `json:"nodes"`
	RaftProfile string `json:"raft_profile"`
	Mappings    int    `json:"mappings"`
	BatchSize   int    `json:"batch_size"`
	Concurrency int    `json:"concurrency"`
	Dir         string `json:"dir"`
	// Load is the bulk load; ReplicatedSec the time after it until every node applied it.
	Load          *Result         `json:"load,omitempty"`
	ReplicatedSec float64         `json:"replicated_s"`
	AfterLoad     []NodeFiles     `json:"after_load,omitempty"`
	Lookups       []*Result       `json:"lookups,omitempty"`
	Restarts      []Restart       `json:"restarts,omitempty"`
	Catchup       *Catchup        `json:"catchup,omitempty"`
	Snapshots     []SnapshotTaken `json:"snapshots,omitempty"`
	AtEnd         []NodeFiles     `json:"at_end,omitempty"`
}

// NodeFiles is one node's disk and memory footprint.
type NodeFiles struct {
	Node          string `json:"node"`
	FSMBytes      int64  `json:"fsm_db_bytes"`
	RaftBytes     int64  `json:"raft_db_bytes"`
	SnapshotBytes int64  `json:"snapshots_bytes"`
	RSSBytes      int64  `json:"rss_bytes"`
	RSSAnonBytes  int64  `json:"rss_anon_bytes"`
	RSSFileBytes  int64  `json:"rss_file_bytes"`
}

// Restart is a node killed with SIGKILL and started again on its data dir.
type Restart struct {
	Node      string  `json:"node"`
	WasLeader bool    `json:"was_leader"`
	HTTPUpSec float64 `json:"http_up_s"`
	ReadSec   float64 `json:"linearizable_read_s"`
	// Memory right after the first read.
	RSSBytes     int64 `json:"rss_bytes"`
	RSSAnonBytes int64 `json:"rss_anon_bytes"`
	RSSFileBytes int64 `json:"rss_file_bytes"`
}

// Catchup is a follower that fell behind the leader's compacted log.
type Catchup struct {
	Node                  string    `json:"node"`
	BehindFrom            uint64    `json:"behind_from_index"`
	SnapshotIndex         uint64    `json:"leader_snapshot_index"`
	Writes                int64     `json:"writes"`
	WriteErrors           int64     `json:"write_errors"`
	WritesPerSec          []float64 `json:"writes_per_sec"`
	WriteSec              float64   `json:"write_s"`
	InstallSec            float64   `json:"install_s"`
	Installed             int       `json:"installed_snapshots"`
	FollowerSnapshotBytes int64     `json:"follower_snapshot_bytes"`
}

// SnapshotTaken is one snapshot raft took, from the node's log.
type SnapshotTaken struct {
	Node  string    `json:"node"`
	Index uint64    `json:"index"`
	Sec   float64   `json:"seconds"`
	At    time.Time `json:"at"`
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// WriteTable prints the report for humans.
func (r *ScaleReport) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "scale: %d nodes (raft profile %s, fsync on), %d instance mappings\n", r.Nodes, r.RaftProfile, r.Mappings)
	if l := r.Load; l != nil {
		fmt.Fprintf(w, "load: %d mappings in %.1f s (%.0f mappings/s; txn batches of %d, %d in flight; batch p50 %s ms, p99 %s ms); all nodes applied it %.1f s later\n",
			l.Items, l.ElapsedSec, l.ItemsPerSec, r.BatchSize, r.Concurrency, ms(l.Latency.P50), ms(l.Latency.P99), r.ReplicatedSec)
	}
	writeFiles(w, "after load", r.AfterLoad)
	for _, l := range r.Lookups {
		fmt.Fprintf(w, "%s on the loaded cluster: %.0f ops/s, p50 %s ms, p99 %s ms (%d clients, %d errors)\n",
			l.Workload, l.OpsPerSec, ms(l.Latency.P50), ms(l.Latency.P99), l.Concurrency, l.ErrorCount())
	}
	for _, x := range r.Restarts {
		role := "follower"
		if x.WasLeader {
			role = "leader"
		}
		fmt.Fprintf(w, "restart of %s (%s, SIGKILL): HTTP up after %.2f s, first linearizable read after %.2f s, RSS then %s (anon %s, file %s)\n",
			x.Node, role, x.HTTPUpSec, x.ReadSec, mib(x.RSSBytes), mib(x.RSSAnonBytes), mib(x.RSSFileBytes))
	}
	for _, s := range r.Snapshots {
		fmt.Fprintf(w, "snapshot taken on %s at index %d in %.2f s\n", s.Node, s.Index, s.Sec)
	}
	if c := r.Catchup; c != nil {
		fmt.Fprintf(w, "catch-up: %s stopped at index %d; %d writes (%d errors) in %.1f s until the leader snapshotted at %d and compacted past it\n",
			c.Node, c.BehindFrom, c.Writes, c.WriteErrors, c.WriteSec, c.SnapshotIndex)
		fmt.Fprintf(w, "catch-up: %s restarted, state equal to the leader's after %.2f s (snapshots installed: %d, its snapshots dir %s)\n",
			c.Node, c.InstallSec, c.Installed, mib(c.FollowerSnapshotBytes))
	}
	writeFiles(w, "at end", r.AtEnd)
	return nil
}

func writeFiles(w io.Writer, when string, fs []NodeFiles) {
	if len(fs) == 0 {
		return
	}
	fmt.Fprintf(w, "files and memory %s:\n", when)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "node\tfsm.db\traft.db\tsnapshots/\tRSS\tof which anon\tof which file\t")
	for _, f := range fs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", f.Node, mib(f.FSMBytes), mib(f.RaftBytes), mib(f.SnapshotBytes),
			mib(f.RSSBytes), mib(f.RSSAnonBytes), mib(f.RSSFileBytes))
	}
	tw.Flush()
}

// ScaleCommand is "cellmap-bench scale": flags into a ScaleConfig, then Scale.
func ScaleCommand(ctx context.Context, prog string, args []string, stdout, stderr io.Writer) int {
	cfg := DefaultScaleConfig()
	fs := flag.NewFlagSet(prog+" scale", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Cellmapd, "cellmapd", cfg.Cellmapd, "cellmapd binary")
	fs.StringVar(&cfg.Dir, "dir", "", "directory for data dirs and logs (default: a temporary dir, removed)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the temporary directory")
	fs.IntVar(&cfg.Nodes, "nodes", cfg.Nodes, "cluster size")
	fs.StringVar(&cfg.RaftProfile, "raft-profile", cfg.RaftProfile, "the servers' raft profile: lan, or test (then pass --trailing-logs 512 --snapshot-threshold 1024)")
	fs.IntVar(&cfg.Mappings, "mappings", cfg.Mappings, "instance mappings to load")
	fs.IntVar(&cfg.BatchSize, "batch-size", cfg.BatchSize, "mappings per /v1/txn")
	fs.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "transactions in flight while loading")
	fs.IntVar(&cfg.ValueSize, "value-size", cfg.ValueSize, "size of the user_id value")
	fs.Uint64Var(&cfg.TrailingLogs, "trailing-logs", cfg.TrailingLogs, "the servers' raft TrailingLogs")
	fs.Uint64Var(&cfg.SnapshotThreshold, "snapshot-threshold", cfg.SnapshotThreshold, "the servers' raft SnapshotThreshold")
	fs.IntVar(&cfg.CatchupConcurrency, "catchup-concurrency", cfg.CatchupConcurrency, "writers while a follower is down")
	fs.IntVar(&cfg.MaxCatchupWrites, "max-catchup-writes", cfg.MaxCatchupWrites, "bound of the writes while a follower is down")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "bound of the whole run")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	out := fs.String("out", "", "also write the JSON report to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg.Progress = func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s scale: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	rep, err := Scale(ctx, cfg)
	if rep != nil {
		if *out != "" {
			if werr := writeJSONFile(*out, rep); werr != nil {
				fmt.Fprintf(stderr, "%s: %v\n", prog, werr)
			}
		}
		if *asJSON {
			_ = writeJSON(stdout, rep)
		} else {
			_ = rep.WriteTable(stdout)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, strings.TrimSpace(err.Error()))
		return 1
	}
	return 0
}
