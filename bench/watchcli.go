package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cellmap/cellmap/api"
)

// WatchBenchCommand runs the watch benchmark from command-line arguments and prints its table
// (and, with --json, the report as JSON). system starts the store under test from the
// --server binary and --query (nil: cellmapd).
func WatchBenchCommand(ctx context.Context, prog string, args []string, stdout, stderr io.Writer, system func(server, query string) StartSystem) int {
	fs := flag.NewFlagSet(prog+" watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &WatchBenchConfig{}
	fs.StringVar(&cfg.Cellmapd, "server", "bin/cellmapd", "the server binary (cellmapd, or etcd for etcd-bench)")
	fs.StringVar(&cfg.Dir, "dir", "", "working directory (default: a new temporary one, removed after)")
	fs.IntVar(&cfg.Watchers, "watchers", 10000, "change streams on the node")
	fs.IntVar(&cfg.Procs, "procs", 4, "fleet processes holding them")
	fs.IntVar(&cfg.Rate, "rate", 1000, "background creates per second during the fan-out run")
	fs.IntVar(&cfg.Concurrency, "concurrency", 16, "writers (background creates and the throughput runs)")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, "fan-out run length")
	fs.DurationVar(&cfg.ProbeEvery, "probe-every", time.Second, "one probe write (reaching every stream) this often")
	fs.DurationVar(&cfg.ThroughputFor, "throughput-for", time.Minute, "each create-throughput run (at least two of the node's 30 s snapshot checks, so that a run with a snapshot of the store and one without are not compared)")
	fs.StringVar(&cfg.Query, "query", "kinds=cells", "the streams' watch query")
	fs.IntVar(&cfg.Preload, "preload", 200000, "mappings bulk-written before the first throughput run (0: none), so the runs' own creates grow the store little")
	fs.IntVar(&cfg.WatchesPerConn, "watches-per-conn", 1, "cellmap streams sharing one connection: 1 is an HTTP/1.1 connection each, more share HTTP/2 (h2c) connections (etcd-bench puts 100 watches on one gRPC connection whatever this says)")
	fs.IntVar(&cfg.WatchesPerRequest, "watches-per-request", 1, "cellmap watches on one POST /v1/watch stream (an HTTP/1.1 connection each); more than 1 needs --watches-per-conn 1")
	asJSON := fs.Bool("json", false, "print the report as JSON too")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.Preload < 0 || cfg.Preload > MaxKeys {
		fmt.Fprintf(stderr, "%s watch: --preload must be from 0 to %d\n", prog, MaxKeys)
		return 2
	}
	if cfg.Watchers < 1 || cfg.Procs < 1 || cfg.Rate < 1 || cfg.Concurrency < 1 || cfg.Duration <= 0 || cfg.Duration > MaxDuration {
		fmt.Fprintf(stderr, "%s watch: --watchers, --procs, --rate, --concurrency must be positive and --duration within %v\n", prog, MaxDuration)
		return 2
	}
	if cfg.WatchesPerConn < 1 || cfg.WatchesPerConn > 1000 {
		fmt.Fprintf(stderr, "%s watch: --watches-per-conn must be from 1 to 1000 (cellmapd's --http2-max-streams)\n", prog)
		return 2
	}
	if cfg.WatchesPerRequest < 1 || cfg.WatchesPerRequest > api.MaxWatchesPerRequest || (cfg.WatchesPerRequest > 1 && cfg.WatchesPerConn > 1) {
		fmt.Fprintf(stderr, "%s watch: --watches-per-request must be from 1 to %d, and 1 with --watches-per-conn\n", prog, api.MaxWatchesPerRequest)
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "%s watch: %v\n", prog, err)
		return 1
	}
	cfg.Self = self
	if cfg.Dir == "" {
		if cfg.Dir, err = os.MkdirTemp("", "cellmap-watch-bench-"); err != nil {
			fmt.Fprintf(stderr, "%s watch: %v\n", prog, err)
			return 1
		}
		defer os.RemoveAll(cfg.Dir)
	}
	start := CellmapWatchSystem(cfg.Cellmapd, cfg.Query, cfg.WatchesPerConn, cfg.WatchesPerRequest)
	if system != nil {
		start = system(cfg.Cellmapd, cfg.Query)
	}
	rep, err := RunWatchBench(ctx, cfg, start, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s watch: %v\n", prog, err)
		return 1
	}
	rep.WriteTable(stdout)
	if *asJSON {
		_ = json.NewEncoder(stdout).Encode(rep)
	}
	return 0
}

// WriteTable prints the report.
func (r *WatchBenchReport) WriteTable(w io.Writer) {
	perIdle := func(a, b int64) float64 {
		if r.Connected == 0 {
			return 0
		}
		return float64(b-a) / float64(r.Connected) / 1024
	}
	fmt.Fprintf(w, "streams open                    %d of %d\n", r.Connected, r.Watchers)
	fmt.Fprintf(w, "node RSS idle / with streams    %s / %s (%.1f KiB per stream)\n", mib(r.RSSIdle), mib(r.RSSWatched), perIdle(r.RSSIdle, r.RSSWatched))
	fmt.Fprintf(w, "node live heap+stacks after GC  %s / %s (%.1f KiB per stream)\n", mib(r.LiveIdle), mib(r.LiveWatched), perIdle(r.LiveIdle, r.LiveWatched))
	ratio := 0.0
	if r.CreatesIdle > 0 {
		ratio = 100 * r.CreatesWatched / r.CreatesIdle
	}
	fmt.Fprintf(w, "creates/s no streams / streams  %.0f (before %.0f, after %.0f) / %.0f (%.0f %%)\n", r.CreatesIdle, r.CreatesBefore, r.CreatesAfter, r.CreatesWatched, ratio)
	if r.CPUBefore > 0 {
		fmt.Fprintf(w, "node CPU µs per create          before %.0f / with streams %.0f / after %.0f (%.2f× the mean without)\n", r.CPUBefore, r.CPUWatched, r.CPUAfter, 2*r.CPUWatched/(r.CPUBefore+r.CPUAfter))
	}
	fmt.Fprintf(w, "background writes               %d (%.0f/s)\n", r.WritesSent, r.WriteRate)
	fmt.Fprintf(w, "probes sent / deliveries        %d / %d of %d\n", r.ProbesSent, r.ProbesDelivered, r.ProbesSent*r.Connected)
	fmt.Fprintf(w, "fan-out latency ms p50/p99/max  %s / %s / %s\n", ms(r.FanOut.P50), ms(r.FanOut.P99), ms(r.FanOut.Max))
	fmt.Fprintf(w, "  the probe's write (to its ack) %s / %s / %s\n", ms(r.ProbeWrite.P50), ms(r.ProbeWrite.P99), ms(r.ProbeWrite.Max))
	fmt.Fprintf(w, "  from the write's ack           %s / %s / %s\n", ms(r.FanOutAfterAck.P50), ms(r.FanOutAfterAck.P99), ms(r.FanOutAfterAck.Max))
	fmt.Fprintf(w, "load average                    %s\n", r.LoadAvg)
}
