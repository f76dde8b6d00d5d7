package check

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/cellmap/cellmap/jepsen/history"
)

// RegisterOps turns the register workload's operations into porcupine operations grouped by
// key. Reads count only when they succeeded; writes and cas that certainly failed are left
// out (they did not happen) except cas refused with revision_mismatch, which is checked; a
// write or cas of unknown fate returns "at infinity" (after every other event). Stale reads
// are not linearizable by design and are left out.
func RegisterOps(events []history.Event) map[string][]porcupine.Operation {
	end := history.Last(events) + 1
	byKey := map[string][]porcupine.Operation{}
	clients := map[string]map[int]int{}
	for _, op := range history.Ops(events) {
		inv := op.Invoke
		if inv.Workload != "register" || (inv.F != "read" && inv.F != "write" && inv.F != "cas") {
			continue
		}
		in := RegInput{F: inv.F, Key: inv.Key, Value: inv.Value, Expect: inv.Expect}
		out, ret, ok := regOutcome(op, end)
		if !ok {
			continue
		}
		ids := clients[inv.Key]
		if ids == nil {
			ids = map[int]int{}
			clients[inv.Key] = ids
		}
		cid, seen := ids[inv.Process]
		if !seen {
			cid = len(ids)
			ids[inv.Process] = cid
		}
		meta := fmt.Sprintf("op %d, process %d, via %s", inv.Op, inv.Process, inv.Node)
		if op.Completed && op.Done.Error != "" {
			meta += ", " + op.Done.Error
		}
		if !op.Completed {
			meta += ", never completed"
		}
		byKey[inv.Key] = append(byKey[inv.Key], porcupine.Operation{
			ClientId: cid, Input: in, Call: inv.Time, Output: out, Return: ret, Metadata: meta,
		})
	}
	return byKey
}

// regOutcome maps a completed operation to its model output and return time; ok is false for
// operations the checker ignores.
func regOutcome(op history.Op, end int64) (RegOutput, int64, bool) {
	switch op.Outcome() {
	case history.KindOK:
		return RegOutput{Status: OutOK, Value: op.Done.Value, Rev: op.Done.Rev}, op.Done.Time, true
	case history.KindFail:
		if op.Invoke.F == "cas" && op.Done.Error == "revision_mismatch" {
			return RegOutput{Status: OutMismatch}, op.Done.Time, true
		}
		return RegOutput{}, 0, false
	}
	if op.Invoke.F == "read" {
		return RegOutput{}, 0, false
	}
	return RegOutput{Status: OutUnknown}, end, true
}

// LinearDetails are the linearizability checker's findings.
type LinearDetails struct {
	Keys     int      `json:"keys"`
	Ops      int      `json:"ops"`
	Unknown  int      `json:"unknown_outcome_ops"`
	Illegal  []string `json:"illegal_keys,omitempty"`
	TimedOut []string `json:"timed_out_keys,omitempty"`
	// Evidence shows stale reads on the illegal keys, when there are plain ones.
	Evidence []string `json:"evidence,omitempty"`
	TookMS   int64    `json:"took_ms"`
}

// checkLinearizable checks every key with porcupine within timeout (shared by all keys). A
// key whose check does not finish in time makes the result invalid: a checker timeout is a
// failure, never a pass.
func checkLinearizable(events []history.Event, timeout time.Duration) Result {
	start := time.Now()
	byKey := RegisterOps(events)
	keys := make([]string, 0, len(byKey))
	d := LinearDetails{Keys: len(byKey)}
	for k, ops := range byKey {
		keys = append(keys, k)
		d.Ops += len(ops)
		for _, op := range ops {
			if op.Output.(RegOutput).Status == OutUnknown {
				d.Unknown++
			}
		}
	}
	sort.Strings(keys)
	model := RegisterModel()
	deadline := start.Add(timeout)
	results := make([]porcupine.CheckResult, len(keys))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				left := time.Until(deadline)
				if left <= 0 {
					results[i] = porcupine.Unknown
					continue
				}
				results[i] = porcupine.CheckOperationsTimeout(model, byKey[keys[i]], left)
			}
		}()
	}
	for i := range keys {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, r := range results {
		switch r {
		case porcupine.Illegal:
			d.Illegal = append(d.Illegal, keys[i])
			if len(d.Evidence) < 5 {
				d.Evidence = append(d.Evidence, staleEvidence(keys[i], byKey[keys[i]], 5-len(d.Evidence))...)
			}
		case porcupine.Unknown:
			d.TimedOut = append(d.TimedOut, keys[i])
		}
	}
	d.TookMS = time.Since(start).Milliseconds()
	res := Result{Name: "linearizable", Valid: len(d.Illegal) == 0 && len(d.TimedOut) == 0, Details: d}
	res.Summary = fmt.Sprintf("%d register ops on %d keys (%d of unknown outcome) checked in %v", d.Ops, d.Keys, d.Unknown,
		time.Duration(d.TookMS)*time.Millisecond)
	if len(d.Illegal) > 0 {
		res.Summary = fmt.Sprintf("NOT linearizable: %d of %d keys (%s); %s", len(d.Illegal), d.Keys, strings.Join(head(d.Illegal, 3), ", "), res.Summary)
		if len(d.Evidence) > 0 {
			res.Summary += "; e.g. " + d.Evidence[0]
		}
	}
	if len(d.TimedOut) > 0 {
		res.Summary = fmt.Sprintf("checker timed out (%v) on %d keys; %s", timeout, len(d.TimedOut), res.Summary)
	}
	return res
}

func head(s []string, n int) []string {
	if len(s) > n {
		return append(append([]string(nil), s[:n]...), "...")
	}
	return s
}
