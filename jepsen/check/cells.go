package check

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

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
