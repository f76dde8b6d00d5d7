package check

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/cellmap/cellmap/jepsen/history"
)

// LeaderDetails are the single-leader checker's findings.
type LeaderDetails struct {
	Polls int `json:"status_polls"`
	Terms int `json:"terms_with_leader"`
	// Conflicts are terms with two confirmed leaders; Suspected are terms where a single poll
	// disagreed (a node's status reads its state and term one after the other, so one poll
	// taken while it steps down can show an old state with a new term).
	Conflicts []Anomaly `json:"conflicts,omitempty"`
	Suspected []Anomaly `json:"suspected,omitempty"`
}

// checkLeaders looks at every status poll for two nodes leading in the same term. A node
// counts as leader of a term when two consecutive polls of it say so.
func checkLeaders(events []history.Event) Result {
	var d LeaderDetails
	confirmed := map[uint64]map[string]int64{}
	claimed := map[uint64]map[string]int64{}
	last := map[string]*history.Status{}
	for _, e := range events {
		if e.Kind != history.KindStatus || e.Status == nil {
			continue
		}
		d.Polls++
		st := e.Status
		if st.State == "Leader" {
			note(claimed, st.Term, e.Node, e.Seq)
			if p := last[e.Node]; p != nil && p.State == "Leader" && p.Term == st.Term {
				note(confirmed, st.Term, e.Node, e.Seq)
			}
		}
		last[e.Node] = st
	}
	d.Terms = len(claimed)
	for _, term := range sortedTerms(claimed) {
		if ids := confirmed[term]; len(ids) > 1 {
			d.Conflicts = append(d.Conflicts, Anomaly{What: fmt.Sprintf("term %d led by %s", term, strings.Join(slices.Sorted(maps.Keys(ids)), " and ")), Ops: seqs(ids)})
		} else if ids := claimed[term]; len(ids) > 1 && len(d.Suspected) < maxAnomalies {
			d.Suspected = append(d.Suspected, Anomaly{What: fmt.Sprintf("term %d claimed by %s in single polls", term, strings.Join(slices.Sorted(maps.Keys(ids)), " and ")), Ops: seqs(ids)})
		}
	}
	res := Result{Name: "single-leader", Valid: len(d.Conflicts) == 0, Details: d}
	res.Summary = fmt.Sprintf("%d status polls, %d terms with a leader, at most one leader per term", d.Polls, d.Terms)
	if !res.Valid {
		res.Summary = fmt.Sprintf("two leaders in one term: %s", d.Conflicts[0].What)
	}
	return res
}

func note(m map[uint64]map[string]int64, term uint64, node string, seq int64) {
	if m[term] == nil {
		m[term] = map[string]int64{}
	}
	if _, ok := m[term][node]; !ok {
		m[term][node] = seq
	}
}

func sortedTerms[V any](m map[uint64]V) []uint64 {
	var ts []uint64
	for t := range m {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts
}

func seqs(m map[string]int64) []int64 {
	var out []int64
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// ConvergenceDetails are the convergence checker's findings.
type ConvergenceDetails struct {
	Checks     int       `json:"final_checks"`
	Converged  int       `json:"converged"`
	Divergence []Anomaly `json:"divergence,omitempty"`
	NotHealed  []string  `json:"not_converged,omitempty"`
}

// checkConvergence fails when two nodes ever reported different state checksums at the same
// applied index, or when the cluster did not reach one leader and equal state after a final
// heal.
func checkConvergence(events []history.Event) Result {
	var d ConvergenceDetails
	type seen struct {
		sum  string
		node string
		seq  int64
	}
	at := map[uint64]seen{}
	for _, e := range events {
		switch {
		case e.Kind == history.KindStatus && e.Status != nil && e.Status.Checksum != "":
			st := e.Status
			if s, ok := at[st.ChecksumIndex]; ok && s.sum != st.Checksum {
				if len(d.Divergence) < maxAnomalies {
					d.Divergence = append(d.Divergence, Anomaly{What: fmt.Sprintf("index %d: %s has %.12s, %s has %.12s",
						st.ChecksumIndex, s.node, s.sum, e.Node, st.Checksum), Ops: []int64{s.seq, e.Seq}})
				}
				continue
			}
			at[st.ChecksumIndex] = seen{st.Checksum, e.Node, e.Seq}
		case e.Kind == history.KindPhase && e.F == history.PhaseConverged:
			d.Checks++
			if e.Error == "" {
				d.Converged++
			} else {
				d.NotHealed = append(d.NotHealed, fmt.Sprintf("episode %d: %s", e.Episode, e.Error))
			}
		}
	}
	res := Result{Name: "convergence", Valid: len(d.Divergence) == 0 && len(d.NotHealed) == 0, Details: d}
	res.Summary = fmt.Sprintf("%d of %d final heals converged to one leader and equal state; no checksum conflicts", d.Converged, d.Checks)
	switch {
	case len(d.Divergence) > 0:
		res.Summary = "replicas diverged: " + d.Divergence[0].What
	case len(d.NotHealed) > 0:
		res.Summary = "no convergence after heal: " + d.NotHealed[0]
	}
	return res
}

// MembershipDetails are the membership checker's findings.
type MembershipDetails struct {
	GossipCuts int       `json:"gossip_cuts"`
	Changes    int       `json:"allowed_changes"`
	Unexpected []Anomaly `json:"unexpected,omitempty"`
}

// membershipGrace is how long after a membership fault (or a heal) its change may still show.
const membershipGrace int64 = 10e9

// checkMembership fails when a node's view of the raft voters changed outside a membership
// fault or a final heal, in particular while gossip was cut (gossip churn must never change
// raft membership).
func checkMembership(events []history.Event) Result {
	var d MembershipDetails
	var allowed [][2]int64
	healStart := int64(-1)
	started := false
	for _, w := range history.Windows(events) {
		switch w.Name {
		case "membership":
			end := w.End
			if end < 0 {
				end = history.Last(events)
			}
			allowed = append(allowed, [2]int64{w.Start, end + membershipGrace})
		case "gossip-cut":
			d.GossipCuts++
		}
	}
	last := map[string]string{}
	for _, e := range events {
		if e.Kind == history.KindPhase {
			switch e.F {
			case history.PhaseHealthy:
				// Nodes joining while the cluster formed may show up in the next polls.
				allowed = append(allowed, [2]int64{0, e.Time + membershipGrace})
			case history.PhaseEpisodeStart:
				started = true
			case history.PhaseWorkloadStop:
				healStart = e.Time
			case history.PhaseConverged:
				if healStart >= 0 {
					allowed = append(allowed, [2]int64{healStart, e.Time + membershipGrace})
				}
				healStart = -1
			}
			continue
		}
		if e.Kind != history.KindStatus || e.Status == nil {
			continue
		}
		voters := strings.Join(e.Status.Servers, ",")
		prev, ok := last[e.Node]
		last[e.Node] = voters
		if !ok || prev == voters || !started {
			continue
		}
		if within(allowed, e.Time) {
			d.Changes++
			continue
		}
		if len(d.Unexpected) < maxAnomalies {
			d.Unexpected = append(d.Unexpected, Anomaly{What: fmt.Sprintf("%s saw voters change from [%s] to [%s] outside a membership fault%s",
				e.Node, prev, voters, duringGossipCut(events, e.Time)), Ops: []int64{e.Seq}})
		}
	}
	res := Result{Name: "membership", Valid: len(d.Unexpected) == 0, Details: d}
	res.Summary = fmt.Sprintf("raft voters changed only through membership faults (%d changes seen, %d gossip cuts)", d.Changes, d.GossipCuts)
	if !res.Valid {
		res.Summary = d.Unexpected[0].What
	}
	return res
}

func within(windows [][2]int64, t int64) bool {
	for _, w := range windows {
		if t >= w[0] && t <= w[1] {
			return true
		}
	}
	return false
}

func duringGossipCut(events []history.Event, t int64) string {
	for _, w := range history.Windows(events) {
		if w.Name == "gossip-cut" && t >= w.Start && (w.End < 0 || t <= w.End+membershipGrace) {
			return " (during a gossip cut)"
		}
	}
	return ""
}
