package check

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/cellmap/cellmap/jepsen/history"
)

// SetEpisode is the set checker's finding for one project (one episode).
type SetEpisode struct {
	Project   string `json:"project"`
	Attempted int    `json:"attempted"`
	Acked     int    `json:"acked"`
	Failed    int    `json:"failed"`
	Unknown   int    `json:"unknown"`
	Listed    bool   `json:"listed"`
	Final     int    `json:"final_size"`
	// Recovered: adds of unknown outcome that are present (allowed).
	Recovered int `json:"recovered"`
	// Lost: acknowledged but absent. Unexpected: present but never attempted.
	// FailedPresent: present although the add was answered with a definite failure.
	Lost          []string `json:"lost,omitempty"`
	Unexpected    []string `json:"unexpected,omitempty"`
	FailedPresent []string `json:"failed_present,omitempty"`
	Duplicates    []string `json:"duplicates,omitempty"`
}

func (e SetEpisode) valid() bool {
	return len(e.Lost) == 0 && len(e.Unexpected) == 0 && len(e.FailedPresent) == 0 && len(e.Duplicates) == 0
}

// checkSet compares each project's final listing with the adds: nothing acknowledged may be
// missing, nothing never attempted (or definitely refused) may be present; adds of unknown
// outcome may be either. A project without a final listing is left to the validity check
// (INCOMPLETE), not failed.
func checkSet(events []history.Event) Result {
	type proj struct {
		ep     SetEpisode
		status map[string]history.Kind
		final  []string
	}
	projects := map[string]*proj{}
	get := func(p string) *proj {
		if projects[p] == nil {
			projects[p] = &proj{ep: SetEpisode{Project: p}, status: map[string]history.Kind{}}
		}
		return projects[p]
	}
	for _, op := range history.Ops(events) {
		inv := op.Invoke
		if inv.Workload != "set" {
			continue
		}
		p := get(inv.Key)
		switch inv.F {
		case "add":
			p.status[inv.Value] = op.Outcome()
		case "list":
			if op.Outcome() == history.KindOK {
				p.final, p.ep.Listed = op.Done.Elements, true
			}
		}
	}
	res := Result{Name: "set", Valid: true}
	var eps []SetEpisode
	var notes []string
	for _, name := range slices.Sorted(maps.Keys(projects)) {
		p := projects[name]
		e := &p.ep
		for _, k := range p.status {
			e.Attempted++
			switch k {
			case history.KindOK:
				e.Acked++
			case history.KindFail:
				e.Failed++
			default:
				e.Unknown++
			}
		}
		if e.Listed {
			judgeSet(e, p.status, p.final)
		}
		if !e.valid() {
			res.Valid = false
			notes = append(notes, fmt.Sprintf("%s: %d lost, %d unexpected, %d failed-but-present, %d duplicated",
				name, len(e.Lost), len(e.Unexpected), len(e.FailedPresent), len(e.Duplicates)))
		}
		eps = append(eps, *e)
	}
	res.Details = eps
	acked, final := 0, 0
	for _, e := range eps {
		acked += e.Acked
		final += e.Final
	}
	res.Summary = fmt.Sprintf("%d projects, %d acknowledged adds, %d elements in final listings", len(eps), acked, final)
	if !res.Valid {
		res.Summary = strings.Join(notes, "; ") + "; " + res.Summary
	}
	return res
}

func judgeSet(e *SetEpisode, status map[string]history.Kind, final []string) {
	present := map[string]bool{}
	for _, x := range final {
		if present[x] {
			e.Duplicates = append(e.Duplicates, x)
		}
		present[x] = true
	}
	e.Final = len(present)
	for x, k := range status {
		switch {
		case k == history.KindOK && !present[x]:
			e.Lost = append(e.Lost, x)
		case k == history.KindFail && present[x]:
			e.FailedPresent = append(e.FailedPresent, x)
		case k == history.KindInfo && present[x]:
			e.Recovered++
		}
	}
	for x := range present {
		if _, ok := status[x]; !ok {
			e.Unexpected = append(e.Unexpected, x)
		}
	}
	sort.Strings(e.Lost)
	sort.Strings(e.Unexpected)
	sort.Strings(e.FailedPresent)
	sort.Strings(e.Duplicates)
}
