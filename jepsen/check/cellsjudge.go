package check

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/jepsen/history"
)

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
	j := &cellsJudge{f: &CellsFinding{}, deletes: map[string][]*cellsDelete{}}
	j.collect(events)
	j.windows = cutWindows(events)
	j.derive()
	j.judgeListings()
	j.judgeDeleteAnswers()
	j.judgeCutDeletes()
	j.judgeWindows(events)
	return j.result()
}

// cellsJudge holds what the history establishes about the cells workload while it is judged.
type cellsJudge struct {
	f         *CellsFinding
	creates   []*cellsCreate
	deletes   map[string][]*cellsDelete // server id -> its deletes
	listings  []*cellsListing           // in history order
	byDone    []*cellsListing           // by completion
	windows   []CellsWindow
	bad       []string
	unknownOK int // deletes of unknown outcome whose server a final listing still shows

	ack        map[string]int64        // id -> when its create was acknowledged
	createOf   map[string]*cellsCreate // id -> its acknowledged create
	refused    map[string]*cellsCreate // name -> a create answered with a definite failure
	mayGo      map[string]int64        // id -> earliest invoke of a delete that may have happened
	deletedAck map[string]int64        // id -> earliest acknowledgement of a delete
	observed   map[string]int64        // id -> first completion of a listing that showed it
	cellOf     map[string]firstSeen
	ids        []string // every server known, sorted
}

func (j *cellsJudge) violation(format string, args ...any) {
	j.bad = append(j.bad, fmt.Sprintf(format, args...))
}

// collect reads the workload's operations from the history.
func (j *cellsJudge) collect(events []history.Event) {
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
			j.addCreate(op, done, kind)
		case "delete":
			j.f.Deletes.add(kind)
			j.deletes[inv.Key] = append(j.deletes[inv.Key],
				&cellsDelete{op: inv.Op, inv: inv.Time, done: done, node: inv.Node, kind: kind, code: op.Done.Error})
		case "list":
			if kind == history.KindOK {
				j.addListing(op, done)
			}
		}
	}
}

func (j *cellsJudge) addCreate(op history.Op, done int64, kind history.Kind) {
	inv := op.Invoke
	c := &cellsCreate{op: inv.Op, inv: inv.Time, done: done, node: inv.Node, project: inv.Key, name: inv.Value, kind: kind, code: op.Done.Error}
	if kind == history.KindOK {
		var sc history.ServerCreated
		if err := json.Unmarshal(op.Done.Data, &sc); err != nil || sc.ID == "" {
			j.violation("create op %d acknowledged without a server id", inv.Op)
		}
		c.id = sc.ID
	}
	if kind == history.KindFail && c.code == api.CodeProjectCellDown {
		j.f.RefusedCreates++
	}
	j.f.Creates.add(kind)
	j.creates = append(j.creates, c)
}

func (j *cellsJudge) addListing(op history.Op, done int64) {
	inv := op.Invoke
	var l history.ServerListing
	if err := json.Unmarshal(op.Done.Data, &l); err != nil {
		j.violation("listing op %d: unreadable data: %v", inv.Op, err)
		return
	}
	cl := &cellsListing{op: inv.Op, inv: inv.Time, done: done, node: inv.Node, final: inv.Value == history.ListFinal,
		servers: make(map[string]history.ListedServer, len(l.Servers)), down: map[string]bool{}, truncated: l.Truncated}
	for _, s := range l.Servers {
		if _, dup := cl.servers[s.ID()]; dup {
			j.violation("listing op %d (%s, %.3fs) shows server %s twice", inv.Op, inv.Node, secs(inv.Time), s.ID())
		}
		cl.servers[s.ID()] = s
	}
	for _, c := range l.DownCells {
		cl.down[c] = true
	}
	j.listings = append(j.listings, cl)
	j.f.Listings++
	if cl.final {
		j.f.FinalListings++
	}
}

// derive works out, per server, when it was created, deleted, first listed and in which cell.
func (j *cellsJudge) derive() {
	j.ack, j.createOf, j.refused = map[string]int64{}, map[string]*cellsCreate{}, map[string]*cellsCreate{}
	for _, c := range j.creates {
		switch {
		case c.kind == history.KindOK && c.id != "":
			j.ack[c.id] = c.done
			j.createOf[c.id] = c
		case c.kind == history.KindFail:
			j.refused[c.name] = c
		}
	}
	j.mayGo, j.deletedAck = map[string]int64{}, map[string]int64{}
	for id, ds := range j.deletes {
		j.mayGo[id], j.deletedAck[id] = never, never
		for _, d := range ds {
			if d.kind != history.KindFail {
				j.mayGo[id] = min(j.mayGo[id], d.inv)
			}
			if d.kind == history.KindOK {
				j.deletedAck[id] = min(j.deletedAck[id], d.done)
			}
		}
	}
	j.byDone = append([]*cellsListing(nil), j.listings...)
	sort.SliceStable(j.byDone, func(a, b int) bool { return j.byDone[a].done < j.byDone[b].done })
	j.observed, j.cellOf = map[string]int64{}, map[string]firstSeen{}
	for _, l := range j.byDone {
		for id, s := range l.servers {
			if _, ok := j.observed[id]; !ok {
				j.observed[id] = l.done
			}
			if s.Cell() == "" {
				continue
			}
			if fs, ok := j.cellOf[id]; !ok {
				j.cellOf[id] = firstSeen{cell: s.Cell(), at: l.done, op: l.op}
			} else if fs.cell != s.Cell() {
				j.violation("server %s moved from cell %s (listing op %d) to cell %s (listing op %d, %s, %.3fs)",
					id, fs.cell, fs.op, s.Cell(), l.op, l.node, secs(l.inv))
			}
		}
	}
	known := map[string]bool{}
	for id := range j.ack {
		known[id] = true
	}
	for id := range j.observed {
		known[id] = true
	}
	j.ids = slices.Sorted(maps.Keys(known))
}

// required reports whether server id must be in listing l: it was acknowledged or listed
// before l began, and no delete that may have happened was sent before l ended.
func (j *cellsJudge) required(id string, l *cellsListing) bool {
	t, ok := j.ack[id]
	if o, seen := j.observed[id]; seen && (!ok || o < t) {
		t, ok = o, true
	}
	if !ok || t >= l.inv {
		return false
	}
	if g, ok := j.mayGo[id]; ok && g < l.done {
		return false
	}
	return true
}

// inWindow returns the cut window listing l lies in entirely, or nil.
func (j *cellsJudge) inWindow(l *cellsListing) *CellsWindow {
	for i := range j.windows {
		w := &j.windows[i]
		if w.down >= 0 && w.heal >= 0 && l.inv >= w.down && l.done <= w.heal {
			return w
		}
	}
	return nil
}

func (j *cellsJudge) why(id string) string {
	if c := j.createOf[id]; c != nil {
		return fmt.Sprintf("created %q in %s, acknowledged at %.3fs", c.name, c.project, secs(c.done))
	}
	return fmt.Sprintf("first listed at %.3fs", secs(j.observed[id]))
}

// missingServer gathers the complete listings a required server was missing from.
type missingServer struct {
	first *cellsListing
	count int
	cut   string
}

// judgeListings checks every listing against what the history establishes.
func (j *cellsJudge) judgeListings() {
	missing := map[string]*missingServer{}
	for _, l := range j.listings {
		w := j.inWindow(l)
		if w != nil {
			w.Listings++
			if !l.down[w.Cell] {
				j.violation("listing op %d (%s, %.3fs-%.3fs) during the cut of %s (down on every node since %.3fs) does not name it in down_cells",
					l.op, l.node, secs(l.inv), secs(l.done), w.Conductor, w.Down)
			}
		}
		for _, id := range j.ids {
			if s, present := l.servers[id]; present {
				j.judgePresent(l, w, id, s)
			} else if !l.truncated && j.required(id, l) {
				j.noteMissing(missing, l, w, id)
			}
		}
		for _, s := range l.servers {
			if c := j.refused[s.Name()]; s.Name() != "" && c != nil {
				j.violation("listing op %d (%s, %.3fs) shows server %s named %q, whose create was refused (%s) at %.3fs",
					l.op, l.node, secs(l.inv), s.ID(), s.Name(), c.code, secs(c.done))
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(missing)) {
		m := missing[id]
		j.violation("server %s (%s) is missing from %d complete listings, first listing op %d (%s, %.3fs-%.3fs)%s%s",
			id, j.why(id), m.count, m.first.op, m.first.node, secs(m.first.inv), secs(m.first.done), m.cut, deleteNote(j.deletes[id]))
	}
}

// judgePresent checks a server listing l shows: a minimal record while its cell is cut, and
// not in a final listing once its delete was acknowledged.
func (j *cellsJudge) judgePresent(l *cellsListing, w *CellsWindow, id string, s history.ListedServer) {
	if w != nil && s.Cell() == w.Cell && s.Status() != api.StatusUnknown {
		j.violation("listing op %d (%s, %.3fs-%.3fs) during the cut of %s shows server %s of that cell with status %s, want a minimal UNKNOWN record",
			l.op, l.node, secs(l.inv), secs(l.done), w.Conductor, id, s.Status())
	}
	if t, ok := j.deletedAck[id]; ok && t < l.inv {
		if l.final {
			j.violation("final listing op %d (%s, %.3fs) shows server %s (%s), whose delete was acknowledged at %.3fs",
				l.op, l.node, secs(l.inv), id, s.Status(), secs(t))
		} else {
			j.f.Transient++
		}
	}
}

func (j *cellsJudge) noteMissing(missing map[string]*missingServer, l *cellsListing, w *CellsWindow, id string) {
	m := missing[id]
	if m == nil {
		m = &missingServer{first: l}
		missing[id] = m
	}
	m.count++
	if fs, ok := j.cellOf[id]; ok && w != nil && fs.cell == w.Cell && fs.at < l.inv && m.cut == "" {
		m.cut = fmt.Sprintf("; no UNKNOWN minimal record in listing op %d (%s, %.3fs-%.3fs) although its cell %s is cut (down on every node since %.3fs; cell learned from listing op %d)",
			l.op, l.node, secs(l.inv), secs(l.done), w.Conductor, w.Down, fs.op)
	}
}

// judgeDeleteAnswers: a delete answered not_found says the server is gone, so no later
// listing may show it. A delete of unknown outcome whose server a final listing still shows
// did not happen (allowed; noted, as the server may now be impossible to delete).
func (j *cellsJudge) judgeDeleteAnswers() {
	for _, id := range slices.Sorted(maps.Keys(j.deletes)) {
		for _, d := range j.deletes[id] {
			switch {
			case d.kind == history.KindFail && d.code == api.CodeNotFound:
				if l := j.firstListingAfter(id, d.done, false); l != nil {
					j.violation("delete op %d of server %s answered not_found at %.3fs (%s), but listing op %d (%s, %.3fs) began later and shows it (%s)",
						d.op, id, secs(d.done), d.node, l.op, l.node, secs(l.inv), l.servers[id].Status())
				}
			case d.kind == history.KindInfo:
				if l := j.firstListingAfter(id, d.done, true); l != nil {
					j.unknownOK++
					if j.unknownOK <= 5 {
						j.f.Notes = append(j.f.Notes, fmt.Sprintf("delete op %d of server %s (%s, %.3fs-%.3fs, outcome unknown: %s) did not happen: final listing op %d (%.3fs) shows it %s",
							d.op, id, d.node, secs(d.inv), secs(d.done), d.code, l.op, secs(l.inv), l.servers[id].Status()))
					}
				}
			}
		}
	}
	if j.unknownOK > 5 {
		j.f.Notes = append(j.f.Notes, fmt.Sprintf("... %d deletes of unknown outcome in all left their server in a final listing", j.unknownOK))
	}
}

// firstListingAfter returns the first listing (by completion; only final ones when final)
// that began after t and shows server id.
func (j *cellsJudge) firstListingAfter(id string, t int64, final bool) *cellsListing {
	for _, l := range j.byDone {
		if _, ok := l.servers[id]; ok && l.inv > t && (l.final || !final) {
			return l
		}
	}
	return nil
}

// judgeCutDeletes: a delete of a server in a cut cell answers 503 cell_down and changes nothing.
func (j *cellsJudge) judgeCutDeletes() {
	for _, id := range slices.Sorted(maps.Keys(j.deletes)) {
		fs, ok := j.cellOf[id]
		if !ok {
			continue
		}
		for _, d := range j.deletes[id] {
			for i := range j.windows {
				w := &j.windows[i]
				if w.down < 0 || w.heal < 0 || fs.cell != w.Cell || fs.at >= d.inv || d.inv < w.down || d.done > w.heal {
					continue
				}
				j.judgeCutDelete(id, d, w)
			}
		}
	}
}

func (j *cellsJudge) judgeCutDelete(id string, d *cellsDelete, w *CellsWindow) {
	w.Deletes++
	desc := fmt.Sprintf("delete op %d of server %s (cell %s, cut and down on every node since %.3fs) sent to %s at %.3fs",
		d.op, id, w.Conductor, w.Down, d.node, secs(d.inv))
	switch {
	case d.kind == history.KindOK:
		j.bad = append(j.bad, desc+fmt.Sprintf(" was acknowledged at %.3fs; want 503 cell_down", secs(d.done)))
		return
	case d.kind == history.KindInfo && d.code == api.CodeOutcomeUnknown:
		j.bad = append(j.bad, desc+" answered outcome_unknown; want a definite 503 cell_down")
		return
	case d.kind == history.KindInfo:
		j.f.Notes = append(j.f.Notes, desc+" got no answer ("+d.code+")")
		return
	case d.code != api.CodeCellDown:
		j.bad = append(j.bad, desc+" was refused with "+d.code+"; want 503 cell_down")
		return
	}
	w.Refused++
	// Nothing changed: the first listing after the cell is back still shows it.
	after := w.up
	if after < 0 {
		after = w.stop
	}
	if after < 0 {
		return
	}
	for _, l := range j.listings {
		if l.truncated || l.inv <= after {
			continue
		}
		if g, ok := j.mayGo[id]; ok && g < l.done {
			return // deleted again since: nothing to judge
		}
		if _, ok := l.servers[id]; !ok {
			j.bad = append(j.bad, desc+fmt.Sprintf(" was refused with cell_down, but the server is gone from listing op %d (%s, %.3fs) after the cell came back",
				l.op, l.node, secs(l.inv)))
		}
		return
	}
}

// judgeWindows: every cut cell was reported down by every node and came back.
func (j *cellsJudge) judgeWindows(events []history.Event) {
	for i := range j.windows {
		w := &j.windows[i]
		switch {
		case w.downTimeout > 0 && w.down < 0:
			j.violation("fault %d: cell %s (%s) was never reported down by every node while its conductor was cut (%.3fs-%.3fs)",
				w.Fault, w.Conductor, w.Cell, w.Start, w.Stop)
		case w.upTimeout > 0 && w.Restarted && w.up >= 0:
			j.f.Notes = append(j.f.Notes, fmt.Sprintf("fault %d: cell %s was not back on every node within the wait after the network heal at %.3fs; it came back at %.3fs only after its conductor was restarted (the gossip reconnect did not bring it back in time)",
				w.Fault, w.Conductor, w.Heal, w.Up))
		case w.upTimeout > 0 && w.up < 0:
			j.violation("fault %d: cell %s never came back up on every node after the heal at %.3fs, not even after restarting its conductor",
				w.Fault, w.Conductor, w.Heal)
		}
		if w.down >= 0 && w.Listings == 0 {
			j.f.Notes = append(j.f.Notes, fmt.Sprintf("fault %d: no listing fell inside the cut window of %s (%.3fs-%.3fs)", w.Fault, w.Conductor, w.Down, w.Heal))
		}
	}
	for _, e := range events {
		if e.Kind == history.KindPhase && e.F == history.PhaseCellsRecovery {
			j.f.Notes = append(j.f.Notes, fmt.Sprintf("episode %d: a cell was down when it should have been up (its conductor was restarted): %s", e.Episode, e.Detail))
			j.f.Recoveries++
		}
	}
}

// result turns the findings into the checker's result.
func (j *cellsJudge) result() Result {
	res := Result{Name: "cells", Valid: len(j.bad) == 0}
	f := j.f
	f.Windows = j.windows
	if len(j.bad) > 0 {
		f.Violations = j.bad
		if len(f.Violations) > maxEvidence {
			f.Violations = append(f.Violations[:maxEvidence:maxEvidence], fmt.Sprintf("... and %d more", len(j.bad)-maxEvidence))
		}
	}
	if len(f.Notes) > maxEvidence {
		f.Notes = append(f.Notes[:maxEvidence:maxEvidence], "...")
	}
	res.Details = f
	judged, refusedDel, restarted := 0, 0, 0
	for _, w := range j.windows {
		judged += w.Listings
		refusedDel += w.Refused
		if w.Restarted {
			restarted++
		}
	}
	res.Summary = fmt.Sprintf("%d creates acknowledged (%d refused: project_cell_down), %d deletes acknowledged, %d listings; %d conductor cuts: %d listings and %d refused deletes inside cut windows",
		f.Creates.OK, f.RefusedCreates, f.Deletes.OK, f.Listings, len(j.windows), judged, refusedDel)
	if restarted > 0 {
		res.Summary += fmt.Sprintf("; %d cut cells came back only after a conductor restart", restarted)
	}
	if f.Recoveries > 0 {
		res.Summary += fmt.Sprintf("; %d times a cell was down after its faults healed (conductor restarted)", f.Recoveries)
	}
	if !res.Valid {
		res.Summary = fmt.Sprintf("%d violations, first: %s; %s", len(j.bad), j.bad[0], res.Summary)
	}
	return res
}
