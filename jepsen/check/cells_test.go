package check

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/jepsen/history"
)

const (
	tc1 = "c0000001-0000-4000-8000-00000000ce11"
	tc2 = "c0000002-0000-4000-8000-00000000ce12"
)

// cellsHist builds cells histories; times are milliseconds.
type cellsHist struct{ hb }

func (b *cellsHist) create(t0, t1 int64, name, id string, kind history.Kind, code string) {
	done := history.Event{Value: name, Error: code}
	if kind == history.KindOK {
		done.Data, _ = json.Marshal(history.ServerCreated{ID: id, Status: "BUILD"})
	}
	b.op(t0, t1, history.Event{Process: 1, Workload: "cells", F: "create", Key: "p1", Node: "n1", Value: name}, kind, done)
}

func (b *cellsHist) del(t0, t1 int64, id string, kind history.Kind, code string) {
	b.op(t0, t1, history.Event{Process: 2, Workload: "cells", F: "delete", Key: id, Node: "n2"}, kind, history.Event{Error: code})
}

// list records a listing; servers are "id/STATUS/cell/name" (cell "1" or "2").
func (b *cellsHist) list(t0, t1 int64, final bool, down []string, servers ...string) {
	l := history.ServerListing{DownCells: down}
	for _, s := range servers {
		f := strings.Split(s, "/")
		cell := map[string]string{"1": tc1, "2": tc2, "": ""}[f[2]]
		l.Servers = append(l.Servers, history.ListedServer{f[0], f[1], cell, f[3]})
	}
	data, _ := json.Marshal(l)
	value := ""
	if final {
		value = history.ListFinal
	}
	b.op(t0, t1, history.Event{Process: 3, Workload: "cells", F: "list", Node: "n3", Value: value}, history.KindOK,
		history.Event{Value: value, Data: data})
}

func (b *cellsHist) nem(t int64, phase string, fault int, cell, detail string) {
	var data []byte
	if cell != "" {
		data, _ = json.Marshal(history.CellEvent{Cell: cell, Conductor: "cell1"})
	}
	b.add(history.Event{Kind: history.KindNemesis, F: "conductor-cut", Phase: phase, Fault: fault, Time: t * 1e6,
		Targets: []string{"cell1"}, Detail: detail, Data: data})
}

// mods change the base history at named points.
type mods struct {
	beforeCut, window, afterCut, final func(b *cellsHist)
	windowList                         []string // servers of the listing inside the cut window
	windowDown                         []string
	deleteA                            func(b *cellsHist) // the delete of a (in the window)
	downTimeout, upAfterRestart        bool
}

// cellsBase is a history that passes: a (cell1) and b (cell2) acknowledged and listed; cell1
// is cut (down on every node 300-600 ms); inside the window a listing shows a as UNKNOWN, a
// delete of a is refused with cell_down, b is deleted, a create is refused with
// project_cell_down; after the heal a is still there.
func cellsBase(m mods) []history.Event {
	b := &cellsHist{}
	b.phase(0, history.PhaseRunStart, 0)
	b.create(0, 5, "a-name", "a", history.KindOK, "")
	b.create(10, 15, "b-name", "b", history.KindOK, "")
	b.create(20, 25, "c-name", "", history.KindInfo, "sent, outcome unknown")
	b.list(100, 110, false, []string{}, "a/ACTIVE/1/a-name", "b/ACTIVE/2/b-name")
	if m.beforeCut != nil {
		m.beforeCut(b)
	}
	b.nem(200, history.PhaseStart, 1, "", "conductor cell1 cut off")
	if m.downTimeout {
		b.nem(250, history.PhaseCellDownTimeout, 0, tc1, "not down")
	} else {
		b.nem(300, history.PhaseCellDown, 0, tc1, "down on every node")
	}
	if m.windowList == nil {
		m.windowList = []string{"a/UNKNOWN/1/", "b/ACTIVE/2/b-name"}
	}
	if m.windowDown == nil {
		m.windowDown = []string{tc1}
	}
	b.list(350, 380, false, m.windowDown, m.windowList...)
	if m.deleteA == nil {
		m.deleteA = func(b *cellsHist) { b.del(400, 405, "a", history.KindFail, "cell_down") }
	}
	m.deleteA(b)
	b.del(410, 415, "b", history.KindOK, "")
	b.create(420, 425, "d-name", "", history.KindFail, "project_cell_down")
	if m.window != nil {
		m.window(b)
	}
	b.nem(600, history.PhaseHeal, 0, tc1, "")
	if m.upAfterRestart {
		b.nem(650, history.PhaseCellUpTimeout, 0, tc1, "not up")
		b.nem(700, history.PhaseCellUp, 0, tc1, "up after restart")
		b.events[len(b.events)-1].Data, _ = json.Marshal(history.CellEvent{Cell: tc1, Conductor: "cell1", Restarted: true})
	} else {
		b.nem(700, history.PhaseCellUp, 0, tc1, "up")
	}
	b.nem(710, history.PhaseStop, 1, "", "healed")
	if m.afterCut != nil {
		m.afterCut(b)
	} else {
		b.list(800, 810, false, []string{}, "a/ACTIVE/1/a-name")
	}
	if m.final != nil {
		m.final(b)
	} else {
		b.list(900, 910, true, []string{}, "a/ACTIVE/1/a-name")
	}
	return b.events
}

func TestCellsCheckerPasses(t *testing.T) {
	r := checkCells(cellsBase(mods{}))
	f := r.Details.(*CellsFinding)
	if !r.Valid {
		t.Fatalf("valid history failed: %s\n%v", r.Summary, f.Violations)
	}
	if len(f.Windows) != 1 || f.Windows[0].Listings != 1 || f.Windows[0].Refused != 1 || f.Windows[0].Down != 0.3 || f.RefusedCreates != 1 {
		t.Fatalf("findings: %+v", f)
	}
	if !strings.Contains(r.Summary, "1 conductor cuts: 1 listings and 1 refused deletes inside cut windows") {
		t.Fatalf("summary: %s", r.Summary)
	}
}

func TestCellsCheckerAllowed(t *testing.T) {
	cases := map[string]mods{
		// A delete of unknown outcome may make the server disappear at any later time.
		"unknown-outcome delete": {
			deleteA:  func(b *cellsHist) { b.del(400, 405, "a", history.KindInfo, "sent, outcome unknown") },
			afterCut: func(b *cellsHist) { b.list(800, 810, false, []string{}) },
			final:    func(b *cellsHist) { b.list(900, 910, true, []string{}) },
		},
		// A delete acknowledged after the listing began may or may not be seen by it.
		"concurrent delete": {
			beforeCut: func(b *cellsHist) {
				b.create(120, 125, "e-name", "e", history.KindOK, "")
				b.del(130, 150, "e", history.KindOK, "")
				b.list(140, 160, false, []string{}, "a/ACTIVE/1/a-name", "b/ACTIVE/2/b-name")
			},
		},
		// The create of unknown outcome did happen; a server built since is in a cell; the
		// down cell's servers may come before anything else.
		"unknown create happened": {
			window: func(b *cellsHist) {
				b.list(430, 440, false, []string{tc1}, "a/UNKNOWN/1/", "x/BUILD//c-name")
			},
			afterCut: func(b *cellsHist) { b.list(800, 810, false, []string{}, "x/ACTIVE/2/c-name", "a/ACTIVE/1/a-name") },
			final:    func(b *cellsHist) { b.list(900, 910, true, []string{}, "a/ACTIVE/1/a-name", "x/ACTIVE/2/c-name") },
		},
		// A listing that was still running when the heal began is not judged by the window.
		"listing across the heal": {
			window: func(b *cellsHist) { b.list(590, 620, false, []string{}, "a/ACTIVE/1/a-name") },
		},
		// A server still listed just after its delete was acknowledged (not in a final listing).
		"transient deleted server": {
			afterCut: func(b *cellsHist) { b.list(800, 810, false, []string{}, "a/ACTIVE/1/a-name", "b/ACTIVE/2/b-name") },
		},
		// The cell came back only after its conductor was restarted: noted, not failed.
		"conductor restarted": {upAfterRestart: true},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			r := checkCells(cellsBase(m))
			if !r.Valid {
				t.Fatalf("failed: %s\n%v", r.Summary, r.Details.(*CellsFinding).Violations)
			}
		})
	}
	r := checkCells(cellsBase(mods{upAfterRestart: true}))
	if f := r.Details.(*CellsFinding); len(f.Notes) != 1 || !strings.Contains(f.Notes[0], "only after its conductor was restarted") ||
		!strings.Contains(r.Summary, "1 cut cells came back only after a conductor restart") {
		t.Fatalf("restart not noted: %s %v", r.Summary, f.Notes)
	}
	r = checkCells(cellsBase(mods{afterCut: func(b *cellsHist) {
		b.list(800, 810, false, []string{}, "a/ACTIVE/1/a-name", "b/ACTIVE/2/b-name")
	}}))
	if f := r.Details.(*CellsFinding); f.Transient != 1 {
		t.Fatalf("transient: %d", f.Transient)
	}
}

func TestCellsCheckerFails(t *testing.T) {
	cases := []struct {
		name string
		m    mods
		want string
	}{
		{"acknowledged server lost", mods{afterCut: func(b *cellsHist) { b.list(800, 810, false, []string{}) }},
			"server a (created \"a-name\" in p1, acknowledged at 0.005s) is missing from 1 complete listings, first listing op 9"},
		{"server seen once then lost", mods{
			window:   func(b *cellsHist) { b.list(430, 440, false, []string{tc1}, "a/UNKNOWN/1/", "x/BUILD//c-name") },
			afterCut: func(b *cellsHist) { b.list(800, 810, false, []string{}, "a/ACTIVE/1/a-name") },
		}, "server x (first listed at 0.440s) is missing from 2 complete listings"},
		{"cut cell not in down_cells", mods{windowDown: []string{}}, "does not name it in down_cells"},
		{"full record from the cut cell", mods{windowList: []string{"a/ACTIVE/1/a-name", "b/ACTIVE/2/b-name"}},
			"shows server a of that cell with status ACTIVE, want a minimal UNKNOWN record"},
		{"no minimal record", mods{windowList: []string{"b/ACTIVE/2/b-name"}}, "no UNKNOWN minimal record in listing op 5"},
		{"delete acknowledged in a down cell", mods{
			deleteA:  func(b *cellsHist) { b.del(400, 405, "a", history.KindOK, "") },
			afterCut: func(b *cellsHist) { b.list(800, 810, false, []string{}) },
			final:    func(b *cellsHist) { b.list(900, 910, true, []string{}) },
		}, "was acknowledged at 0.405s; want 503 cell_down"},
		{"delete of unknown outcome in a down cell", mods{
			deleteA: func(b *cellsHist) { b.del(400, 405, "a", history.KindInfo, "outcome_unknown") },
		}, "answered outcome_unknown; want a definite 503 cell_down"},
		{"delete refused with another code", mods{
			deleteA: func(b *cellsHist) { b.del(400, 405, "a", history.KindFail, "no_leader") },
		}, "was refused with no_leader; want 503 cell_down"},
		{"refused delete changed something", mods{
			afterCut: func(b *cellsHist) { b.list(800, 810, false, []string{}, "b/ACTIVE/2/b-name") },
			final:    func(b *cellsHist) { b.list(900, 910, true, []string{}) },
		}, "was refused with cell_down, but the server is gone from listing op"},
		{"refused create exists", mods{final: func(b *cellsHist) {
			b.list(900, 910, true, []string{}, "a/ACTIVE/1/a-name", "d/ACTIVE/2/d-name")
		}}, "named \"d-name\", whose create was refused (project_cell_down)"},
		{"deleted server in the final listing", mods{final: func(b *cellsHist) {
			b.list(900, 910, true, []string{}, "a/ACTIVE/1/a-name", "b/ACTIVE/2/b-name")
		}}, "final listing op"},
		{"cell never down", mods{downTimeout: true}, "was never reported down by every node"},
		{"server moved", mods{afterCut: func(b *cellsHist) { b.list(800, 810, false, []string{}, "a/ACTIVE/2/a-name") }},
			"server a moved from cell " + tc1},
		{"not found but listed", mods{window: func(b *cellsHist) {
			b.del(450, 455, "z", history.KindFail, "not_found")
			b.list(460, 470, false, []string{tc1}, "a/UNKNOWN/1/", "z/UNKNOWN/1/")
		}}, "delete op"},
		{"duplicate in a listing", mods{afterCut: func(b *cellsHist) {
			b.list(800, 810, false, []string{}, "a/ACTIVE/1/a-name", "a/ACTIVE/1/a-name")
		}}, "shows server a twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := checkCells(cellsBase(c.m))
			f := r.Details.(*CellsFinding)
			if r.Valid || !strings.Contains(strings.Join(f.Violations, "\n"), c.want) {
				t.Fatalf("want a violation with %q, got valid=%v:\n%s", c.want, r.Valid, strings.Join(f.Violations, "\n"))
			}
			if !strings.Contains(r.Summary, "violations, first:") {
				t.Fatalf("summary: %s", r.Summary)
			}
		})
	}
}

func TestCellsCheckerRunsOnlyWithTheWorkload(t *testing.T) {
	b := &hb{}
	b.add(history.Event{Kind: history.KindPhase, F: history.PhaseRunStart, Data: []byte(`{"seed":1,"workloads":["register","set"]}`)})
	for _, c := range Analyze(b.events, Options{}).Checkers {
		if c.Name == "cells" {
			t.Fatal("cells checker ran without the cells workload")
		}
	}
	b.events[0].Data = []byte(`{"seed":1,"workloads":["cells"]}`)
	found := false
	for _, c := range Analyze(b.events, Options{}).Checkers {
		found = found || c.Name == "cells"
	}
	if !found {
		t.Fatal("cells checker missing")
	}
	if got := missingCellsListings(cellsBase(mods{final: func(*cellsHist) {}})); len(got) != 1 {
		t.Fatalf("a run without a final cells listing must be INCOMPLETE: %v", got)
	}
}

func TestSetupFailureIsIncomplete(t *testing.T) {
	b := &hb{}
	b.add(history.Event{Kind: history.KindPhase, F: history.PhaseRunStart, Data: []byte(`{"seed":1,"workloads":["cells"]}`)})
	b.add(history.Event{Kind: history.KindPhase, F: history.PhaseHealthy})
	b.add(history.Event{Kind: history.KindPhase, F: history.PhaseSetupFailed, Error: "cells setup: map cell0: boom"})
	rep := Analyze(b.events, Options{})
	if rep.Verdict != Incomplete || !strings.Contains(strings.Join(rep.Reasons, "\n"), "a workload's setup failed: cells setup: map cell0: boom") {
		t.Fatalf("got %s %v", rep.Verdict, rep.Reasons)
	}
}
