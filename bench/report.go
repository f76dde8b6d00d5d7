package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is the report of one run. Latencies cover successful and conflicting operations
// (both are complete answers of the server); errors are counted by kind.
type Result struct {
	Target      string    `json:"target"`
	Workload    string    `json:"workload"`
	Label       string    `json:"label,omitempty"`
	Started     time.Time `json:"started"`
	Endpoints   []string  `json:"endpoints"`
	Concurrency int       `json:"concurrency"`
	Keys        int       `json:"keys"`
	ValueSize   int       `json:"value_size"`
	BatchSize   int       `json:"batch_size,omitempty"`
	Seed        int64     `json:"seed"`
	// Skipped says why the workload did not run (the target does not offer it).
	Skipped string `json:"skipped,omitempty"`

	ElapsedSec   float64           `json:"elapsed_s"`
	Ops          int64             `json:"ops"`
	Conflicts    int64             `json:"conflicts"`
	Errors       map[string]int64  `json:"errors"`
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	OpsPerSec    float64           `json:"ops_per_sec"`
	// Items counts mappings written by bulk, servers listed by list (one per op elsewhere).
	Items       int64   `json:"items"`
	ItemsPerSec float64 `json:"items_per_sec"`
	Latency     Latency `json:"latency"`
	// ServerCPUSec is the CPU time the servers of Config.ServerPIDs used during the measured
	// run; ServerCPUPerOpUs the same per operation (µs), a figure less sensitive to other
	// load on the machine than throughput.
	ServerCPUSec     float64 `json:"server_cpu_s,omitempty"`
	ServerCPUPerOpUs float64 `json:"server_cpu_per_op_us,omitempty"`
	// PerOp breaks the run down by operation (mixed: read and write).
	PerOp map[string]*OpResult `json:"per_op,omitempty"`
	// Preload is the untimed load of the key space that preceded the run.
	Preload *Result `json:"preload,omitempty"`
}

// OpResult is one operation's share of a run.
type OpResult struct {
	Ops       int64            `json:"ops"`
	Conflicts int64            `json:"conflicts"`
	Errors    map[string]int64 `json:"errors,omitempty"`
	OpsPerSec float64          `json:"ops_per_sec"`
	Latency   Latency          `json:"latency"`
}

func newResult(cfg *Config, target string) *Result {
	r := &Result{Target: target, Workload: cfg.Workload, Label: cfg.Label, Started: time.Now().UTC(),
		Endpoints: cfg.Endpoints, Concurrency: cfg.Concurrency, Keys: cfg.Keys, ValueSize: cfg.ValueSize,
		Seed: cfg.Seed, Errors: map[string]int64{}}
	if cfg.Workload == WorkloadBulk || cfg.Preload {
		r.BatchSize = cfg.BatchSize
	}
	return r
}

// fill merges the workers' figures into r.
func (r *Result) fill(m *measurement) {
	r.ElapsedSec = m.elapsed.Seconds()
	total := NewHistogram()
	per := map[string]*opStats{}
	for _, w := range m.workers {
		r.Items += w.items
		for kind, msg := range w.samples {
			if r.ErrorSamples == nil {
				r.ErrorSamples = map[string]string{}
			}
			if _, ok := r.ErrorSamples[kind]; !ok {
				r.ErrorSamples[kind] = msg
			}
		}
		for name, o := range w.ops {
			p := per[name]
			if p == nil {
				p = newOpStats()
				per[name] = p
			}
			p.ok += o.ok
			p.conflicts += o.conflicts
			p.hist.Merge(o.hist)
			for k, n := range o.errors {
				p.errors[k] += n
			}
		}
	}
	r.PerOp = map[string]*OpResult{}
	for name, p := range per {
		total.Merge(p.hist)
		r.Ops += p.ok
		r.Conflicts += p.conflicts
		for k, n := range p.errors {
			r.Errors[k] += n
		}
		r.PerOp[name] = &OpResult{Ops: p.ok, Conflicts: p.conflicts, Errors: p.errors,
			OpsPerSec: rate(p.ok, m.elapsed), Latency: p.hist.Summary()}
	}
	r.OpsPerSec = rate(r.Ops, m.elapsed)
	r.ItemsPerSec = rate(r.Items, m.elapsed)
	r.Latency = total.Summary()
}

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// ErrorCount is the number of failed operations (conflicts excluded).
func (r *Result) ErrorCount() int64 {
	var n int64
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// WriteJSON writes r as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error { return writeJSON(w, r) }

// WriteTable writes r for humans.
func (r *Result) WriteTable(w io.Writer) error {
	if r.Preload != nil {
		p := r.Preload
		fmt.Fprintf(w, "preload: %d mappings in %.2f s (%.0f mappings/s, batches of %d)\n", p.Items, p.ElapsedSec, p.ItemsPerSec, p.BatchSize)
	}
	head := fmt.Sprintf("%s %s, %d clients over %d endpoint(s), %d keys, value %d B", r.Target, r.Workload, r.Concurrency, len(r.Endpoints), r.Keys, r.ValueSize)
	if r.Label != "" {
		head += " [" + r.Label + "]"
	}
	fmt.Fprintln(w, head)
	if r.Skipped != "" {
		_, err := fmt.Fprintf(w, "skipped: %s\n", r.Skipped)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tops\tops/s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\tconflicts\terrors\t")
	row := func(name string, ops int64, opsPerSec float64, l Latency, conflicts, errs int64) {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t\n", name, ops, opsPerSec,
			ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max), conflicts, errs)
	}
	names := make([]string, 0, len(r.PerOp))
	for n := range r.PerOp {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) > 1 {
		for _, n := range names {
			o := r.PerOp[n]
			row(n, o.Ops, o.OpsPerSec, o.Latency, o.Conflicts, sum(o.Errors))
		}
	}
	row("all", r.Ops, r.OpsPerSec, r.Latency, r.Conflicts, r.ErrorCount())
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "elapsed %.2f s", r.ElapsedSec)
	if r.ServerCPUSec > 0 {
		fmt.Fprintf(w, "; servers used %.2f CPU s (%.0f µs per op)", r.ServerCPUSec, r.ServerCPUPerOpUs)
	}
	switch r.Workload {
	case WorkloadBulk:
		fmt.Fprintf(w, "; %d mappings, %.0f mappings/s, batches of %d", r.Items, r.ItemsPerSec, r.BatchSize)
	case WorkloadList:
		fmt.Fprintf(w, "; %d items listed (%.1f per page)", r.Items, float64(r.Items)/float64(max(r.Ops, 1)))
	}
	fmt.Fprintln(w)
	if len(r.Errors) > 0 {
		kinds := make([]string, 0, len(r.Errors))
		for k, n := range r.Errors {
			kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
		}
		sort.Strings(kinds)
		fmt.Fprintf(w, "errors: %s\n", strings.Join(kinds, " "))
		for _, k := range sortedKeys(r.ErrorSamples) {
			fmt.Fprintf(w, "  e.g. %s: %s\n", k, r.ErrorSamples[k])
		}
	}
	return nil
}

func ms(us int64) string { return fmt.Sprintf("%.3f", float64(us)/1000) }

func sum(m map[string]int64) int64 {
	var n int64
	for _, c := range m {
		n += c
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
