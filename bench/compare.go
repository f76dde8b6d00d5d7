package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
)

// ErrNoResults is returned when a comparison finds nothing to compare.
var ErrNoResults = errors.New("bench: no results to compare")

// Median returns the median of xs (the mean of the middle two for an even count; 0 for none).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// Side is the median figures of one target for one (workload, clients) pair.
type Side struct {
	Rounds    int     `json:"rounds"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50us     float64 `json:"p50_us"`
	P99us     float64 `json:"p99_us"`
	Errors    int64   `json:"errors"`
	Conflicts int64   `json:"conflicts"`
	// CPUPerOpUs is the median server CPU per operation (0 when not measured).
	CPUPerOpUs float64 `json:"server_cpu_per_op_us,omitempty"`
	Skipped    string  `json:"skipped,omitempty"`
}

// Row compares two targets on one (workload, clients) pair. Ratios are A/B: above 1 means A
// has more throughput (OpsRatio) or a longer tail (P99Ratio).
type Row struct {
	Workload    string  `json:"workload"`
	Concurrency int     `json:"concurrency"`
	A           Side    `json:"a"`
	B           Side    `json:"b"`
	OpsRatio    float64 `json:"ops_ratio"`
	P50Ratio    float64 `json:"p50_ratio"`
	P99Ratio    float64 `json:"p99_ratio"`
	CPURatio    float64 `json:"cpu_per_op_ratio,omitempty"`
}

// Comparison is the ratio table of target A against target B.
type Comparison struct {
	A    string `json:"a"`
	B    string `json:"b"`
	Rows []Row  `json:"rows"`
}

// Compare builds the ratio table of target a against b from the runs in results, using the
// medians of their rounds. Pairs that only one side ran are listed with zero ratios.
func Compare(results []*Result, a, b string) (*Comparison, error) {
	type key struct {
		w string
		c int
	}
	groups := map[key]map[string][]*Result{}
	for _, r := range results {
		if r.Target != a && r.Target != b {
			continue
		}
		k := key{r.Workload, r.Concurrency}
		if groups[k] == nil {
			groups[k] = map[string][]*Result{}
		}
		groups[k][r.Target] = append(groups[k][r.Target], r)
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("%w (targets %s and %s)", ErrNoResults, a, b)
	}
	cmp := &Comparison{A: a, B: b}
	for k, g := range groups {
		row := Row{Workload: k.w, Concurrency: k.c, A: side(g[a]), B: side(g[b])}
		row.OpsRatio = ratio(row.A.OpsPerSec, row.B.OpsPerSec)
		row.P50Ratio = ratio(row.A.P50us, row.B.P50us)
		row.P99Ratio = ratio(row.A.P99us, row.B.P99us)
		row.CPURatio = ratio(row.A.CPUPerOpUs, row.B.CPUPerOpUs)
		cmp.Rows = append(cmp.Rows, row)
	}
	order := map[string]int{}
	for i, w := range Workloads {
		order[w] = i
	}
	sort.Slice(cmp.Rows, func(i, j int) bool {
		ri, rj := cmp.Rows[i], cmp.Rows[j]
		if ri.Workload != rj.Workload {
			return order[ri.Workload] < order[rj.Workload]
		}
		return ri.Concurrency < rj.Concurrency
	})
	return cmp, nil
}

func side(rs []*Result) Side {
	var s Side
	var ops, p50, p99, cpu []float64
	for _, r := range rs {
		if r.Skipped != "" {
			s.Skipped = r.Skipped
			continue
		}
		s.Rounds++
		ops = append(ops, opsOf(r))
		p50 = append(p50, float64(r.Latency.P50))
		p99 = append(p99, float64(r.Latency.P99))
		if r.ServerCPUPerOpUs > 0 {
			cpu = append(cpu, r.ServerCPUPerOpUs)
		}
		s.Errors += r.ErrorCount()
		s.Conflicts += r.Conflicts
	}
	s.OpsPerSec, s.P50us, s.P99us, s.CPUPerOpUs = Median(ops), Median(p50), Median(p99), Median(cpu)
	return s
}

// opsOf is the throughput that matters: mappings/s for bulk, ops/s otherwise.
func opsOf(r *Result) float64 {
	if r.Workload == WorkloadBulk {
		return r.ItemsPerSec
	}
	return r.OpsPerSec
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// WriteTable prints the comparison for humans.
func (c *Comparison) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s / %s, medians of the rounds (ops/s ratio > 1: %s faster; p99 and CPU ratios < 1: %s's tail shorter, %s cheaper;\nCPU µs/op: CPU time of the 3 server processes per operation)\n", c.A, c.B, c.A, c.A, c.A)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "workload\tclients\trounds\t%s ops/s\t%s ops/s\tops/s ratio\t%s p50 ms\t%s p50 ms\t%s p99 ms\t%s p99 ms\tp99 ratio\tCPU µs/op\tCPU ratio\terrors\t\n",
		c.A, c.B, c.A, c.B, c.A, c.B)
	for _, r := range c.Rows {
		if r.A.Skipped != "" || r.B.Skipped != "" {
			fmt.Fprintf(tw, "%s\t%d\t-\t-\t-\tskipped\t-\t-\t-\t-\t-\t-\t-\t-\t\n", r.Workload, r.Concurrency)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d/%d\t%.0f\t%.0f\t%.2f×\t%.3f\t%.3f\t%.3f\t%.3f\t%.2f×\t%.0f/%.0f\t%.2f×\t%d/%d\t\n",
			r.Workload, r.Concurrency, r.A.Rounds, r.B.Rounds, r.A.OpsPerSec, r.B.OpsPerSec, r.OpsRatio,
			r.A.P50us/1000, r.B.P50us/1000, r.A.P99us/1000, r.B.P99us/1000, r.P99Ratio,
			r.A.CPUPerOpUs, r.B.CPUPerOpUs, r.CPURatio, r.A.Errors, r.B.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range c.Rows {
		for _, s := range []Side{r.A, r.B} {
			if s.Skipped != "" {
				fmt.Fprintf(w, "%s %d: %s\n", r.Workload, r.Concurrency, s.Skipped)
			}
		}
	}
	return nil
}

// ReadResults reads every *.json result file under dir (files that are not results are
// skipped).
func ReadResults(dir string) ([]*Result, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*Result
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var r Result
		if err := json.Unmarshal(data, &r); err != nil || r.Target == "" || r.Workload == "" {
			continue
		}
		out = append(out, &r)
	}
	return out, nil
}
