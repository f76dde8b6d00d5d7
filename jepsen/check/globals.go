package check

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cellmap/cellmap/jepsen/history"
)

// globalsWorkload is the workload the globals checker judges (workload.GlobalsName).
const globalsWorkload = "globals"

// GlobalsState mirrors workload.GlobalsState, the final read of one episode (check does not
// import workload).
type GlobalsState struct {
	Project string `json:"project"`
	Limit   int64  `json:"limit"`
	Usage   int64  `json:"usage"`
	Servers []struct {
		ID     string `json:"id"`
		Host   string `json:"host,omitempty"`
		Status string `json:"status"`
	} `json:"servers"`
	Groups []struct {
		ID         string   `json:"id"`
		MaxPerHost int64    `json:"max_per_host"`
		Members    []string `json:"members,omitempty"`
	} `json:"groups"`
}

// GlobalsEpisode is the globals checker's finding for one project (one episode).
type GlobalsEpisode struct {
	Project string `json:"project"`
	// Creates counts by outcome; QuotaRefused are the creates refused with quota_exceeded.
	Creates      Outcomes `json:"creates"`
	QuotaRefused int      `json:"quota_refused"`
	Deletes      Outcomes `json:"deletes"`
	Final        bool     `json:"final"`
	Limit        int64    `json:"limit"`
	Usage        int64    `json:"usage"`
	Live         int      `json:"live"`
	// Placed counts the group members on a host in the final state.
	Placed int `json:"placed"`
	// Problems are the broken invariants (empty: valid).
	Problems []string `json:"problems,omitempty"`
}

// Outcomes counts operations by outcome.
type Outcomes struct {
	OK      int `json:"ok"`
	Fail    int `json:"fail"`
	Unknown int `json:"unknown"`
}

func (o *Outcomes) add(k history.Kind) {
	switch k {
	case history.KindOK:
		o.OK++
	case history.KindFail:
		o.Fail++
	default:
		o.Unknown++
	}
}

// JudgeGlobals checks one final state: usage within the limit (no overshoot) and equal to the
// number of live servers, and no host holding more members of a group than its
// max_server_per_host (1 for plain anti-affinity). It returns the broken invariants.
func JudgeGlobals(st *GlobalsState) []string {
	var problems []string
	if st.Limit >= 0 && st.Usage > st.Limit {
		problems = append(problems, fmt.Sprintf("usage %d over the limit %d", st.Usage, st.Limit))
	}
	if int(st.Usage) != len(st.Servers) {
		problems = append(problems, fmt.Sprintf("usage %d but %d live servers", st.Usage, len(st.Servers)))
	}
	if live := len(st.Servers); live > int(st.Limit) && st.Limit >= 0 {
		problems = append(problems, fmt.Sprintf("%d live servers over the limit %d", live, st.Limit))
	}
	host := map[string]string{}
	for _, s := range st.Servers {
		host[s.ID] = s.Host
	}
	for _, g := range st.Groups {
		per := map[string][]string{}
		for _, m := range g.Members {
			if h := host[m]; h != "" {
				per[h] = append(per[h], m)
			}
		}
		for _, h := range slices.Sorted(maps.Keys(per)) {
			if int64(len(per[h])) > max(g.MaxPerHost, 1) {
				problems = append(problems, fmt.Sprintf("group %s: %d members on host %s (at most %d): %s", g.ID, len(per[h]), h,
					max(g.MaxPerHost, 1), strings.Join(per[h], ",")))
			}
		}
	}
	return problems
}

// checkGlobals judges every episode's final state (an episode without one is left to the
// validity check: INCOMPLETE).
func checkGlobals(events []history.Event) Result {
	eps := map[string]*GlobalsEpisode{}
	get := func(p string) *GlobalsEpisode {
		if eps[p] == nil {
			eps[p] = &GlobalsEpisode{Project: p}
		}
		return eps[p]
	}
	res := Result{Name: globalsWorkload, Valid: true}
	var notes []string
	for _, op := range history.Ops(events) {
		inv := op.Invoke
		if inv.Workload != globalsWorkload {
			continue
		}
		e := get(inv.Key)
		switch inv.F {
		case "create":
			e.Creates.add(op.Outcome())
			if op.Completed && op.Done.Error == "quota_exceeded" {
				e.QuotaRefused++
			}
		case "delete":
			e.Deletes.add(op.Outcome())
		case "final-state":
			if op.Outcome() != history.KindOK {
				continue
			}
			var st GlobalsState
			if err := json.Unmarshal(op.Done.Data, &st); err != nil {
				e.Problems = append(e.Problems, "undecodable final state: "+err.Error())
				break
			}
			e.Final, e.Limit, e.Usage, e.Live = true, st.Limit, st.Usage, len(st.Servers)
			e.Problems = append(e.Problems, JudgeGlobals(&st)...)
			for _, g := range st.Groups {
				e.Placed += len(g.Members)
			}
		}
	}
	var out []GlobalsEpisode
	acked, refused := 0, 0
	for _, p := range slices.Sorted(maps.Keys(eps)) {
		e := eps[p]
		if len(e.Problems) > 0 {
			res.Valid = false
			notes = append(notes, p+": "+strings.Join(e.Problems, "; "))
		}
		acked += e.Creates.OK
		refused += e.QuotaRefused
		out = append(out, *e)
	}
	res.Details = out
	res.Summary = fmt.Sprintf("%d projects, %d acknowledged creates, %d refused over quota", len(out), acked, refused)
	if !res.Valid {
		res.Summary = strings.Join(notes, " | ") + "; " + res.Summary
	}
	return res
}

// missingGlobalsFinal finds episodes where the globals workload ran but no final read
// succeeded.
func missingGlobalsFinal(events []history.Event) []string {
	ran, read := map[string]bool{}, map[string]bool{}
	for _, op := range history.Ops(events) {
		if op.Invoke.Workload != globalsWorkload {
			continue
		}
		ran[op.Invoke.Key] = true
		if op.Invoke.F == "final-state" && op.Outcome() == history.KindOK {
			read[op.Invoke.Key] = true
		}
	}
	var out []string
	for _, p := range slices.Sorted(maps.Keys(ran)) {
		if !read[p] {
			out = append(out, fmt.Sprintf("globals %s: no final state read", p))
		}
	}
	return out
}
