package check

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/jepsen/history"
)

// cellsWorkload and conductorCut are the names the cells workload records under (package
// workload defines them; the checker reads only the history).
const (
	cellsWorkload = "cells"
	conductorCut  = "conductor-cut"
)

// maxEvidence bounds the violation lines kept in a result.
const maxEvidence = 25

// CellsWindow is one conductor cut as the checker saw it. Times are seconds since the run
// started (-1: did not happen).
type CellsWindow struct {
	Fault     int     `json:"fault"`
	Cell      string  `json:"cell"`
	Conductor string  `json:"conductor"`
	Start     float64 `json:"start_s"`
	Down      float64 `json:"down_s"`
	Heal      float64 `json:"heal_s"`
	Up        float64 `json:"up_s"`
	Stop      float64 `json:"stop_s"`
	// Restarted: the cell did not come back after the heal and its conductor was restarted.
	Restarted bool `json:"restarted,omitempty"`
	// Listings and Deletes are the operations judged inside the cut window; Refused the
	// deletes answered 503 cell_down.
	Listings int `json:"listings"`
	Deletes  int `json:"deletes"`
	Refused  int `json:"refused"`

	start, down, heal, up, stop int64
	downTimeout, upTimeout      int
}

// CellsFinding is the cells checker's result details.
type CellsFinding struct {
	Creates        Counts        `json:"creates"`
	Deletes        Counts        `json:"deletes"`
	Listings       int           `json:"listings"`
	FinalListings  int           `json:"final_listings"`
	RefusedCreates int           `json:"refused_creates_project_cell_down"`
	Windows        []CellsWindow `json:"windows"`
	// Violations are the failures with their evidence; Notes are findings that do not fail
	// the run (e.g. a conductor that had to be restarted to come back).
	Violations []string `json:"violations,omitempty"`
	Notes      []string `json:"notes,omitempty"`
	// Recoveries counts the times a cell was found down when it should have been up (at the
	// end of an episode, or before a conductor cut) and its conductor had to be restarted.
	Recoveries int `json:"recoveries"`
	// Transient counts listings that still showed a server whose delete had been
	// acknowledged before they began (allowed while the delete settles; not in final listings).
	Transient int `json:"transient_deleted_listed"`
}

type cellsListing struct {
	op        int64
	inv, done int64
	node      string
	final     bool
	servers   map[string]history.ListedServer
	down      map[string]bool
	truncated bool
}

type cellsDelete struct {
	op        int64
	inv, done int64
	node      string
	kind      history.Kind
	code      string
}

type cellsCreate struct {
	op        int64
	inv, done int64
	node      string
	project   string
	name      string
	kind      history.Kind
	code      string
	id        string
}

// firstSeen is the first listing (by completion) that showed a server with a cell.
type firstSeen struct {
	cell string
	at   int64
	op   int64
}

const never = int64(math.MaxInt64)

func secs(t int64) float64 {
	if t < 0 || t == never {
		return -1
	}
	return math.Round(float64(t)/1e6) / 1e3
}

// checkCells judges the cells workload from the history alone:
//
//   - every acknowledged create, and every server a listing has shown, is in every later
//     complete listing unless a delete of it that may have happened (acknowledged or of
//     unknown outcome) was sent before that listing ended;
//   - in a cut window (from "every node reports the cut cell down" to the heal) every listing
//     names the cell in down_cells, shows every server known to be in that cell (its
//     cell_uuid learned from an earlier listing) as a minimal record with status UNKNOWN,
//     and shows no full record of that cell; a delete of such a server answers 503
//     cell_down, and the first listing after the cell is back still holds the server;
//   - a server whose create was refused (project_cell_down and other definite failures)
//     never shows up; a server's cell never changes; no listing shows a server twice; no
//     listing that began after a delete answered not_found shows that server; a final
//     listing holds no server whose delete was acknowledged before it began (an earlier
//     listing may, while the delete settles: counted as transient);
//   - every cut cell is reported down by every node, and comes back (possibly only after
//     its conductor was restarted, which is noted).
func checkCells(events []history.Event) Result {
	res := Result{Name: "cells", Valid: true}
	f := &CellsFinding{}
	var creates []*cellsCreate
	deletes := map[string][]*cellsDelete{}
	var listings []*cellsListing
	var bad []string
	for _, op := range history.Ops(events) {
		inv := op.Invoke
		if inv.Workload != cellsWorkload {
			continue
		}
		done := never
		if op.Completed {
			done = op.Done.Time
		}
		kind := op.Outcome()
		switch inv.F {
		case "create":
			c := &cellsCreate{op: inv.Op, inv: inv.Time, done: done, node: inv.Node, project: inv.Key, name: inv.Value, kind: kind, code: op.Done.Error}
			if kind == history.KindOK {
				var sc history.ServerCreated
				if err := json.Unmarshal(op.Done.Data, &sc); err != nil || sc.ID == "" {
					bad = append(bad, fmt.Sprintf("create op %d acknowledged without a server id", inv.Op))
				}
				c.id = sc.ID
			}
			if kind == history.KindFail && c.code == api.CodeProjectCellDown {
				f.RefusedCreates++
			}
			f.Creates.add(kind)
			creates = append(creates, c)
		case "delete":
			d := &cellsDelete{op: inv.Op, inv: inv.Time, done: done, node: inv.Node, kind: kind, code: op.Done.Error}
			f.Deletes.add(kind)
			deletes[inv.Key] = append(deletes[inv.Key], d)
		case "list":
			if kind != history.KindOK {
				continue
			}
			var l history.ServerListing
			if err := json.Unmarshal(op.Done.Data, &l); err != nil {
				bad = append(bad, fmt.Sprintf("listing op %d: unreadable data: %v", inv.Op, err))
				continue
			}
			cl := &cellsListing{op: inv.Op, inv: inv.Time, done: done, node: inv.Node, final: inv.Value == history.ListFinal,
				servers: make(map[string]history.ListedServer, len(l.Servers)), down: map[string]bool{}, truncated: l.Truncated}
			for _, s := range l.Servers {
				if _, dup := cl.servers[s.ID()]; dup {
					bad = append(bad, fmt.Sprintf("listing op %d (%s, %.3fs) shows server %s twice", inv.Op, inv.Node, secs(inv.Time), s.ID()))
				}
				cl.servers[s.ID()] = s
			}
			for _, c := range l.DownCells {
				cl.down[c] = true
			}
			listings = append(listings, cl)
			f.Listings++
			if cl.final {
				f.FinalListings++
			}
		}
	}
	windows := cutWindows(events)

	// What the history establishes about each server.
	ack := map[string]int64{} // id -> when its create was acknowledged
	createOf := map[string]*cellsCreate{}
	refused := map[string]*cellsCreate{} // name -> a create answered with a definite failure
	for _, c := range creates {
		switch {
		case c.kind == history.KindOK && c.id != "":
			ack[c.id] = c.done
			createOf[c.id] = c
		case c.kind == history.KindFail:
			refused[c.name] = c
		}
	}
	mayGo := map[string]int64{}      // id -> earliest invoke of a delete that may have happened
	deletedAck := map[string]int64{} // id -> earliest acknowledgement of a delete
	for id, ds := range deletes {
		mayGo[id], deletedAck[id] = never, never
		for _, d := range ds {
			if d.kind != history.KindFail {
				mayGo[id] = min(mayGo[id], d.inv)
			}
			if d.kind == history.KindOK {
				deletedAck[id] = min(deletedAck[id], d.done)
			}
		}
	}
	byDone := append([]*cellsListing(nil), listings...)
	sort.SliceStable(byDone, func(i, j int) bool { return byDone[i].done < byDone[j].done })
	observed := map[string]int64{} // id -> first completion of a listing that showed it
	cellOf := map[string]firstSeen{}
	for _, l := range byDone {
		for id, s := range l.servers {
			if _, ok := observed[id]; !ok {
				observed[id] = l.done
			}
			if s.Cell() == "" {
				continue
			}
			if fs, ok := cellOf[id]; !ok {
				cellOf[id] = firstSeen{cell: s.Cell(), at: l.done, op: l.op}
			} else if fs.cell != s.Cell() {
				bad = append(bad, fmt.Sprintf("server %s moved from cell %s (listing op %d) to cell %s (listing op %d, %s, %.3fs)",
					id, fs.cell, fs.op, s.Cell(), l.op, l.node, secs(l.inv)))
			}
		}
	}
	known := map[string]bool{}
	for id := range ack {
		known[id] = true
	}
	for id := range observed {
		known[id] = true
	}
	ids := make([]string, 0, len(known))
	for id := range known {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	// required: the server must be in listing l.
	required := func(id string, l *cellsListing) bool {
		t, ok := ack[id]
		if o, seen := observed[id]; seen && (!ok || o < t) {
			t, ok = o, true
		}
		if !ok || t >= l.inv {
			return false
		}
		if g, ok := mayGo[id]; ok && g < l.done {
			return false
		}
		return true
	}
	inWindow := func(l *cellsListing) *CellsWindow {
		for i := range windows {
			w := &windows[i]
			if w.down >= 0 && w.heal >= 0 && l.inv >= w.down && l.done <= w.heal {
				return w
			}
		}
		return nil
	}
	why := func(id string) string {
		if c := createOf[id]; c != nil {
			return fmt.Sprintf("created %q in %s, acknowledged at %.3fs", c.name, c.project, secs(c.done))
		}
		return fmt.Sprintf("first listed at %.3fs", secs(observed[id]))
	}

	type missingServer struct {
		first *cellsListing
		count int
		cut   string
	}
	missing := map[string]*missingServer{}
	for _, l := range listings {
		w := inWindow(l)
		if w != nil {
			w.Listings++
			if !l.down[w.Cell] {
				bad = append(bad, fmt.Sprintf("listing op %d (%s, %.3fs-%.3fs) during the cut of %s (down on every node since %.3fs) does not name it in down_cells",
					l.op, l.node, secs(l.inv), secs(l.done), w.Conductor, w.Down))
			}
		}
		for _, id := range ids {
			s, present := l.servers[id]
			if present {
				if w != nil && s.Cell() == w.Cell && s.Status() != api.StatusUnknown {
					bad = append(bad, fmt.Sprintf("listing op %d (%s, %.3fs-%.3fs) during the cut of %s shows server %s of that cell with status %s, want a minimal UNKNOWN record",
						l.op, l.node, secs(l.inv), secs(l.done), w.Conductor, id, s.Status()))
				}
				if t, ok := deletedAck[id]; ok && t < l.inv {
					if l.final {
						bad = append(bad, fmt.Sprintf("final listing op %d (%s, %.3fs) shows server %s (%s), whose delete was acknowledged at %.3fs",
							l.op, l.node, secs(l.inv), id, s.Status(), secs(t)))
					} else {
						f.Transient++
					}
				}
				continue
			}
			if l.truncated || !required(id, l) {
				continue
			}
			m := missing[id]
			if m == nil {
				m = &missingServer{}
				missing[id] = m
			}
			m.count++
			if fs, ok := cellOf[id]; ok && w != nil && fs.cell == w.Cell && fs.at < l.inv && m.cut == "" {
				m.cut = fmt.Sprintf("; no UNKNOWN minimal record in listing op %d (%s, %.3fs-%.3fs) although its cell %s is cut (down on every node since %.3fs; cell learned from listing op %d)",
					l.op, l.node, secs(l.inv), secs(l.done), w.Conductor, w.Down, fs.op)
			}
			if m.first == nil {
				m.first = l
			}
		}
		for _, s := range l.servers {
			if c := refused[s.Name()]; s.Name() != "" && c != nil {
				bad = append(bad, fmt.Sprintf("listing op %d (%s, %.3fs) shows server %s named %q, whose create was refused (%s) at %.3fs",
					l.op, l.node, secs(l.inv), s.ID(), s.Name(), c.code, secs(c.done)))
			}
		}
	}

	for _, id := range sortedKeysOf(missing) {
		m := missing[id]
		bad = append(bad, fmt.Sprintf("server %s (%s) is missing from %d complete listings, first listing op %d (%s, %.3fs-%.3fs)%s%s",
			id, why(id), m.count, m.first.op, m.first.node, secs(m.first.inv), secs(m.first.done), m.cut, deleteNote(deletes[id])))
	}

	// A delete answered not_found says the server is gone: no later listing may show it.
	// A delete of unknown outcome whose server a final listing still shows did not happen
	// (allowed; noted, as the server may now be impossible to delete).
	unknownKept := 0
	for _, id := range sortedKeysOf(deletes) {
		for _, d := range deletes[id] {
			switch {
			case d.kind == history.KindFail && d.code == api.CodeNotFound:
				for _, l := range byDone {
					if _, ok := l.servers[id]; ok && l.inv > d.done {
						bad = append(bad, fmt.Sprintf("delete op %d of server %s answered not_found at %.3fs (%s), but listing op %d (%s, %.3fs) began later and shows it (%s)",
							d.op, id, secs(d.done), d.node, l.op, l.node, secs(l.inv), l.servers[id].Status()))
						break
					}
				}
			case d.kind == history.KindInfo:
				for _, l := range byDone {
					if _, ok := l.servers[id]; ok && l.final && l.inv > d.done {
						unknownKept++
						if unknownKept <= 5 {
							f.Notes = append(f.Notes, fmt.Sprintf("delete op %d of server %s (%s, %.3fs-%.3fs, outcome unknown: %s) did not happen: final listing op %d (%.3fs) shows it %s",
								d.op, id, d.node, secs(d.inv), secs(d.done), d.code, l.op, secs(l.inv), l.servers[id].Status()))
						}
						break
					}
				}
			}
		}
	}
	if unknownKept > 5 {
		f.Notes = append(f.Notes, fmt.Sprintf("... %d deletes of unknown outcome in all left their server in a final listing", unknownKept))
	}

	// Deletes in cut windows: 503 cell_down, and nothing changed.
	for _, id := range sortedKeysOf(deletes) {
		fs, ok := cellOf[id]
		if !ok {
			continue
		}
		for _, d := range deletes[id] {
			for i := range windows {
				w := &windows[i]
				if w.down < 0 || w.heal < 0 || fs.cell != w.Cell || fs.at >= d.inv || d.inv < w.down || d.done > w.heal {
					continue
				}
				w.Deletes++
				desc := fmt.Sprintf("delete op %d of server %s (cell %s, cut and down on every node since %.3fs) sent to %s at %.3fs",
					d.op, id, w.Conductor, w.Down, d.node, secs(d.inv))
				switch {
				case d.kind == history.KindOK:
					bad = append(bad, desc+fmt.Sprintf(" was acknowledged at %.3fs; want 503 cell_down", secs(d.done)))
					continue
				case d.kind == history.KindInfo && d.code == api.CodeOutcomeUnknown:
					bad = append(bad, desc+" answered outcome_unknown; want a definite 503 cell_down")
					continue
				case d.kind == history.KindInfo:
					f.Notes = append(f.Notes, desc+" got no answer ("+d.code+")")
					continue
				case d.code != api.CodeCellDown:
					bad = append(bad, desc+" was refused with "+d.code+"; want 503 cell_down")
					continue
				}
				w.Refused++
				// Nothing changed: the first listing after the cell is back still shows it.
				after := w.up
				if after < 0 {
					after = w.stop
				}
				if after < 0 {
					continue
				}
				for _, l := range listings {
					if l.truncated || l.inv <= after {
						continue
					}
					if g, ok := mayGo[id]; ok && g < l.done {
						break // deleted again since: nothing to judge
					}
					if _, ok := l.servers[id]; !ok {
						bad = append(bad, desc+fmt.Sprintf(" was refused with cell_down, but the server is gone from listing op %d (%s, %.3fs) after the cell came back",
							l.op, l.node, secs(l.inv)))
					}
					break
				}
			}
		}
	}

	for i := range windows {
		w := &windows[i]
		switch {
		case w.downTimeout > 0 && w.down < 0:
			bad = append(bad, fmt.Sprintf("fault %d: cell %s (%s) was never reported down by every node while its conductor was cut (%.3fs-%.3fs)",
				w.Fault, w.Conductor, w.Cell, w.Start, w.Stop))
		case w.upTimeout > 0 && w.Restarted && w.up >= 0:
			f.Notes = append(f.Notes, fmt.Sprintf("fault %d: cell %s was not back on every node within the wait after the network heal at %.3fs; it came back at %.3fs only after its conductor was restarted (the gossip pool does not take a cut-off member back by itself)",
				w.Fault, w.Conductor, w.Heal, w.Up))
		case w.upTimeout > 0 && w.up < 0:
			bad = append(bad, fmt.Sprintf("fault %d: cell %s never came back up on every node after the heal at %.3fs, not even after restarting its conductor",
				w.Fault, w.Conductor, w.Heal))
		}
		if w.down >= 0 && w.Listings == 0 {
			f.Notes = append(f.Notes, fmt.Sprintf("fault %d: no listing fell inside the cut window of %s (%.3fs-%.3fs)", w.Fault, w.Conductor, w.Down, w.Heal))
		}
	}
	for _, e := range events {
		if e.Kind == history.KindPhase && e.F == history.PhaseCellsRecovery {
			f.Notes = append(f.Notes, fmt.Sprintf("episode %d: a cell was down when it should have been up (the gossip pool does not take back a member it declared dead): %s", e.Episode, e.Detail))
			f.Recoveries++
		}
	}
	f.Windows = windows
	if len(bad) > 0 {
		res.Valid = false
		f.Violations = bad
		if len(f.Violations) > maxEvidence {
			f.Violations = append(f.Violations[:maxEvidence:maxEvidence], fmt.Sprintf("... and %d more", len(bad)-maxEvidence))
		}
	}
	if len(f.Notes) > maxEvidence {
		f.Notes = append(f.Notes[:maxEvidence:maxEvidence], "...")
	}
	res.Details = f
	judged, refusedDel, restarted := 0, 0, 0
	for _, w := range windows {
		judged += w.Listings
		refusedDel += w.Refused
		if w.Restarted {
			restarted++
		}
	}
	res.Summary = fmt.Sprintf("%d creates acknowledged (%d refused: project_cell_down), %d deletes acknowledged, %d listings; %d conductor cuts: %d listings and %d refused deletes inside cut windows",
		f.Creates.OK, f.RefusedCreates, f.Deletes.OK, f.Listings, len(windows), judged, refusedDel)
	if restarted > 0 {
		res.Summary += fmt.Sprintf("; %d cut cells came back only after a conductor restart", restarted)
	}
	if f.Recoveries > 0 {
		res.Summary += fmt.Sprintf("; %d times a cell was down after its faults healed (conductor restarted)", f.Recoveries)
	}
	if !res.Valid {
		res.Summary = fmt.Sprintf("%d violations, first: %s; %s", len(bad), bad[0], res.Summary)
	}
	return res
}

// deleteNote describes the deletes of a server, for evidence.
func deleteNote(ds []*cellsDelete) string {
	if len(ds) == 0 {
		return " (never deleted)"
	}
	var parts []string
	for _, d := range ds {
		out := string(d.kind)
		if d.code != "" {
			out += " " + d.code
		}
		parts = append(parts, fmt.Sprintf("op %d at %.3fs-%.3fs: %s", d.op, secs(d.inv), secs(d.done), out))
	}
	return "; its deletes: " + strings.Join(parts, ", ")
}

// cutWindows pairs each conductor-cut fault with the cell events its nemesis recorded between
// its start and stop (one fault runs at a time).
func cutWindows(events []history.Event) []CellsWindow {
	var out []CellsWindow
	open := -1
	for _, e := range events {
		if e.Kind != history.KindNemesis || e.F != conductorCut {
			continue
		}
		if e.Phase == history.PhaseStart {
			if strings.HasPrefix(e.Detail, "skipped") || strings.HasPrefix(e.Detail, "error") {
				open = -1
				continue
			}
			out = append(out, CellsWindow{Fault: e.Fault, start: e.Time, down: -1, heal: -1, up: -1, stop: -1})
			open = len(out) - 1
			continue
		}
		if e.Fault != 0 {
			open = -1
			for i := range out {
				if out[i].Fault == e.Fault {
					open = i
				}
			}
		}
		if open < 0 {
			continue
		}
		w := &out[open]
		var ce history.CellEvent
		if len(e.Data) > 0 {
			json.Unmarshal(e.Data, &ce)
		}
		if ce.Cell != "" {
			w.Cell, w.Conductor = ce.Cell, ce.Conductor
		}
		switch e.Phase {
		case history.PhaseCellDown:
			w.down = e.Time
		case history.PhaseCellDownTimeout:
			w.downTimeout++
		case history.PhaseHeal:
			w.heal = e.Time
		case history.PhaseCellUp:
			w.up = e.Time
			w.Restarted = w.Restarted || ce.Restarted
		case history.PhaseCellUpTimeout:
			w.upTimeout++
			w.Restarted = w.Restarted || ce.Restarted
		case history.PhaseStop:
			w.stop = e.Time
			open = -1
		}
	}
	for i := range out {
		w := &out[i]
		w.Start, w.Down, w.Heal, w.Up, w.Stop = secs(w.start), secs(w.down), secs(w.heal), secs(w.up), secs(w.stop)
		if w.Conductor == "" {
			w.Conductor = "?"
		}
	}
	return out
}
