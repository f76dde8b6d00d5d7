package check

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/cellmap/cellmap/jepsen/history"
)

// Anomaly is one piece of evidence against the history, with the events involved.
type Anomaly struct {
	What string  `json:"what"`
	Ops  []int64 `json:"ops,omitempty"`
}

// MonotonicDetails are the stale-read checker's findings.
type MonotonicDetails struct {
	Reads      int       `json:"reads"`
	StaleReads int       `json:"stale_reads"`
	Anomalies  []Anomaly `json:"anomalies,omitempty"`
}

// maxAnomalies bounds the evidence kept per checker.
const maxAnomalies = 20

// checkMonotonic checks what stale reads promise, per node: the X-Cellmap-Index of a read is
// never below that of a read on the same node that finished before it began (linearizable
// reads included, since the index is the node's applied index either way); a stale read never
// sees a revision above the index it reports, nor an older revision of a key than an earlier
// stale read on the same node. Stale reads are excluded from the linearizability check.
func checkMonotonic(events []history.Event) Result {
	var d MonotonicDetails
	byNode := map[string][]history.Op{}
	byNodeKey := map[string][]history.Op{}
	for _, op := range history.Ops(events) {
		inv := op.Invoke
		if inv.Workload != "register" || (inv.F != "read" && inv.F != "stale-read") || op.Outcome() != history.KindOK {
			continue
		}
		d.Reads++
		if op.Done.ServerIndex > 0 {
			byNode[inv.Node] = append(byNode[inv.Node], op)
		}
		if inv.F != "stale-read" {
			continue
		}
		d.StaleReads++
		if op.Done.ServerIndex > 0 && op.Done.Rev > op.Done.ServerIndex {
			d.add(fmt.Sprintf("stale read on %s saw revision %d above its index %d", inv.Node, op.Done.Rev, op.Done.ServerIndex), inv.Op)
		}
		byNodeKey[inv.Node+"/"+inv.Key] = append(byNodeKey[inv.Node+"/"+inv.Key], op)
	}
	for _, node := range slices.Sorted(maps.Keys(byNode)) {
		regressions(byNode[node], func(op history.Op) uint64 { return op.Done.ServerIndex }, func(a, b history.Op) {
			d.add(fmt.Sprintf("index on %s went back from %d to %d", node, a.Done.ServerIndex, b.Done.ServerIndex), a.Invoke.Op, b.Invoke.Op)
		})
	}
	for _, nk := range slices.Sorted(maps.Keys(byNodeKey)) {
		regressions(byNodeKey[nk], func(op history.Op) uint64 { return op.Done.Rev }, func(a, b history.Op) {
			d.add(fmt.Sprintf("stale reads on %s went back from revision %d to %d", nk, a.Done.Rev, b.Done.Rev), a.Invoke.Op, b.Invoke.Op)
		})
	}
	res := Result{Name: "stale-reads", Valid: len(d.Anomalies) == 0, Details: d}
	res.Summary = fmt.Sprintf("%d reads (%d stale) with monotonic index per node", d.Reads, d.StaleReads)
	if !res.Valid {
		res.Summary = fmt.Sprintf("%d anomalies, first: %s; %d reads (%d stale)", len(d.Anomalies), d.Anomalies[0].What, d.Reads, d.StaleReads)
	}
	return res
}

func (d *MonotonicDetails) add(what string, ops ...int64) {
	if len(d.Anomalies) < maxAnomalies {
		d.Anomalies = append(d.Anomalies, Anomaly{What: what, Ops: ops})
	}
}

// regressions reports every op b whose value is below that of an op a that returned before b
// was invoked (ops of one sequence, e.g. one node's reads).
func regressions(ops []history.Op, value func(history.Op) uint64, report func(a, b history.Op)) {
	byReturn := append([]history.Op(nil), ops...)
	sort.Slice(byReturn, func(i, j int) bool { return byReturn[i].Done.Time < byReturn[j].Done.Time })
	byInvoke := append([]history.Op(nil), ops...)
	sort.Slice(byInvoke, func(i, j int) bool { return byInvoke[i].Invoke.Time < byInvoke[j].Invoke.Time })
	var best history.Op
	var bestVal uint64
	have := false
	j := 0
	for _, b := range byInvoke {
		for j < len(byReturn) && byReturn[j].Done.Time < b.Invoke.Time {
			if v := value(byReturn[j]); !have || v > bestVal {
				best, bestVal, have = byReturn[j], v, true
			}
			j++
		}
		if have && value(b) < bestVal {
			report(best, b)
		}
	}
}
