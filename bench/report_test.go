package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHistogramPercentiles(t *testing.T) {
	h := NewHistogram()
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	s := h.Summary()
	near := func(name string, got, want int64) {
		if math.Abs(float64(got-want)) > float64(want)*0.002+1 {
			t.Errorf("%s = %d µs, want %d", name, got, want)
		}
	}
	near("p50", s.P50, 5000)
	near("p90", s.P90, 9000)
	near("p99", s.P99, 9900)
	near("p99.9", s.P999, 9990)
	near("max", s.Max, 10000)
	if math.Abs(s.Mean-5000.5) > 10 {
		t.Errorf("mean %.1f", s.Mean)
	}
	// Clamping: below 1 µs and past the cap still count.
	h2 := NewHistogram()
	h2.Record(0)
	h2.Record(time.Hour)
	if h2.Count() != 2 || h2.Summary().Max < int64(MaxDuration/time.Microsecond)*99/100 {
		t.Errorf("clamped values: count %d max %d", h2.Count(), h2.Summary().Max)
	}
	if (NewHistogram().Summary() != Latency{}) {
		t.Error("empty histogram must summarise to zero")
	}
	// Merge keeps both sides.
	a, b := NewHistogram(), NewHistogram()
	a.Record(time.Millisecond)
	b.Record(3 * time.Millisecond)
	a.Merge(b)
	if a.Count() != 2 || a.Summary().Max < 2990 {
		t.Errorf("merged %d values, max %d", a.Count(), a.Summary().Max)
	}
}

func TestMedian(t *testing.T) {
	cases := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, c := range cases {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	in := []float64{3, 1, 2}
	Median(in)
	if in[0] != 3 {
		t.Error("Median must not reorder its input")
	}
}

func result(target, workload string, clients int, ops float64, p50, p99 int64) *Result {
	return &Result{Target: target, Workload: workload, Concurrency: clients, OpsPerSec: ops,
		Latency: Latency{P50: p50, P99: p99}, Errors: map[string]int64{}}
}

func TestCompareUsesMedians(t *testing.T) {
	rs := []*Result{
		result("cellmap", WorkloadLookup, 16, 100, 10, 100),
		result("cellmap", WorkloadLookup, 16, 300, 30, 300),
		result("cellmap", WorkloadLookup, 16, 200, 20, 200),
		result("etcd", WorkloadLookup, 16, 100, 40, 400),
		result("etcd", WorkloadLookup, 16, 50, 10, 100),
		result("cellmap", WorkloadCreate, 64, 10, 1, 1),
		result("other", WorkloadCreate, 64, 10, 1, 1),
	}
	bulkA := result("cellmap", WorkloadBulk, 4, 1, 1, 1)
	bulkA.ItemsPerSec = 3000
	bulkB := result("etcd", WorkloadBulk, 4, 1, 1, 1)
	bulkB.ItemsPerSec = 1000
	skipped := result("etcd", WorkloadList, 1, 0, 0, 0)
	skipped.Skipped = "no listing"
	rs = append(rs, bulkA, bulkB, skipped, result("cellmap", WorkloadList, 1, 5, 1, 1))
	cmp, err := Compare(rs, "cellmap", "etcd")
	if err != nil {
		t.Fatal(err)
	}
	if len(cmp.Rows) != 4 {
		t.Fatalf("%d rows: %+v", len(cmp.Rows), cmp.Rows)
	}
	r := cmp.Rows[0]
	if r.Workload != WorkloadLookup || r.A.Rounds != 3 || r.B.Rounds != 2 {
		t.Fatalf("first row %+v", r)
	}
	if r.A.OpsPerSec != 200 || r.B.OpsPerSec != 75 || math.Abs(r.OpsRatio-200.0/75) > 1e-9 {
		t.Fatalf("ops medians %v/%v ratio %v", r.A.OpsPerSec, r.B.OpsPerSec, r.OpsRatio)
	}
	if r.P99Ratio != 200.0/250 {
		t.Fatalf("p99 ratio %v", r.P99Ratio)
	}
	if cmp.Rows[1].Workload != WorkloadCreate || cmp.Rows[1].OpsRatio != 0 {
		t.Fatalf("a pair only one side ran has no ratio: %+v", cmp.Rows[1])
	}
	if cmp.Rows[2].Workload != WorkloadBulk || cmp.Rows[2].OpsRatio != 3 {
		t.Fatalf("bulk compares mappings/s: %+v", cmp.Rows[2])
	}
	var buf bytes.Buffer
	if err := cmp.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"lookup", "2.67×", "skipped", "no listing"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if _, err := Compare(rs, "x", "y"); err == nil {
		t.Error("comparing absent targets must fail")
	}
}

func TestResultFilesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	r := result("cellmap", WorkloadLookup, 1, 123.5, 7, 9)
	r.PerOp = map[string]*OpResult{"lookup": {Ops: 3}}
	if err := writeJSONFile(filepath.Join(dir, "a.json"), r); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "compare.json"), []byte(`{"a":"cellmap","rows":[]}`), 0o644)
	os.WriteFile(filepath.Join(dir, "junk.json"), []byte(`not json`), 0o644)
	rs, err := ReadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].OpsPerSec != 123.5 || rs[0].PerOp["lookup"].Ops != 3 {
		t.Fatalf("read back %+v", rs)
	}
}

func TestWriteTable(t *testing.T) {
	f := newFake()
	cfg := testConfig(WorkloadMixed)
	cfg.Preload, cfg.Label = true, "r1"
	f.fail = func(op string, n int64) error {
		if n%50 == 0 {
			return WithKind(KindUnavailable, errNoLeader)
		}
		return nil
	}
	res, err := Run(t.Context(), cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := res.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"preload: 100 mappings", "fake mixed, 4 clients", "[r1]", "read", "write", "all", "p99.9 ms", "errors: unavailable=", "e.g. unavailable"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Ops != res.Ops || back.Latency != res.Latency || back.Errors[KindUnavailable] == 0 {
		t.Fatalf("JSON round trip: %+v", back)
	}
}

var errNoLeader = jsonErr("no leader")

type jsonErr string

func (e jsonErr) Error() string { return string(e) }
