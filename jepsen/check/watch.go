package check

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cellmap/cellmap/jepsen/history"
)

// watchWorkload is the name of the watch workload.
const watchWorkload = "watch"

// WatchCache is the watch checker's finding for one client cache in one episode.
type WatchCache struct {
	Episode int    `json:"episode"`
	Cache   string `json:"cache"`
	// Synced is the revision its first listing went live at; Reached the revision it had
	// reached at the end.
	Synced  uint64 `json:"synced"`
	Reached uint64 `json:"reached"`
	// Events counts its streamed changes, Relists its listings after the first (seen in its
	// changes), Reconnects the streams it opened after the first (as it reported).
	Events     int    `json:"events"`
	Relists    int    `json:"relists"`
	Reconnects uint64 `json:"reconnects"`
	// Missed: acknowledged writes at or below Reached it never fired (outside a relist).
	// Duplicated: changes fired twice. OutOfOrder: a change below one fired before it.
	// Unexpected: changes that match no write (or not the write of their revision).
	Missed     []string `json:"missed,omitempty"`
	Duplicated []string `json:"duplicated,omitempty"`
	OutOfOrder []string `json:"out_of_order,omitempty"`
	Unexpected []string `json:"unexpected,omitempty"`
	// Converged: its final state equals the final linearizable listing; Diverged says how
	// it does not.
	Converged bool   `json:"converged"`
	Diverged  string `json:"diverged,omitempty"`
}

func (c WatchCache) valid() bool {
	return len(c.Missed)+len(c.Duplicated)+len(c.OutOfOrder)+len(c.Unexpected) == 0 && c.Diverged == ""
}

// watchWrite is a write of the watch workload.
type watchWrite struct {
	key, op string
	rev     uint64
}

// watchEpisode is what one episode of the watch workload recorded.
type watchEpisode struct {
	acked   map[uint64]watchWrite
	maybe   map[string]bool // key|op of writes of unknown outcome
	final   *history.Op     // the final listing
	caches  map[string][]history.Event
	ordered []string // cache names in first-seen order
}

// checkWatch requires every cache's changes to be the acknowledged writes of its episode in
// revision order, each once, with no gap up to the revision the cache reached (writes of
// unknown outcome may appear, once; a relist may skip the writes it covers), and every
// cache's final state to equal the final linearizable listing.
func checkWatch(events []history.Event) Result {
	eps := collectWatch(events)
	res := Result{Name: watchWorkload, Valid: true}
	var found []WatchCache
	var notes []string
	acked, changes := 0, 0
	for _, n := range sortedInts(eps) {
		ep := eps[n]
		acked += len(ep.acked)
		for _, name := range ep.ordered {
			c := judgeCache(n, name, ep)
			changes += c.Events
			if !c.valid() {
				res.Valid = false
				notes = append(notes, fmt.Sprintf("episode %d %s: %d missed, %d duplicated, %d out of order, %d unexpected%s",
					n, name, len(c.Missed), len(c.Duplicated), len(c.OutOfOrder), len(c.Unexpected), divergedNote(c)))
			}
			found = append(found, c)
		}
	}
	res.Details = found
	res.Summary = fmt.Sprintf("%d caches over %d episodes, %d acknowledged writes, %d changes fired", len(found), len(eps), acked, changes)
	if !res.Valid {
		res.Summary = strings.Join(notes, "; ") + "; " + res.Summary
	}
	return res
}

func divergedNote(c WatchCache) string {
	if c.Diverged == "" {
		return ""
	}
	return ", not converged: " + c.Diverged
}

// collectWatch groups the watch workload's writes, final listings and observations by
// episode.
func collectWatch(events []history.Event) map[int]*watchEpisode {
	eps := map[int]*watchEpisode{}
	get := func(n int) *watchEpisode {
		if eps[n] == nil {
			eps[n] = &watchEpisode{acked: map[uint64]watchWrite{}, maybe: map[string]bool{}, caches: map[string][]history.Event{}}
		}
		return eps[n]
	}
	for _, op := range history.Ops(events) {
		inv := op.Invoke
		if inv.Workload != watchWorkload {
			continue
		}
		ep := get(inv.Episode)
		switch inv.F {
		case "create", "delete":
			switch op.Outcome() {
			case history.KindOK:
				ep.acked[op.Done.Rev] = watchWrite{key: inv.Key, op: inv.F, rev: op.Done.Rev}
			case history.KindInfo:
				ep.maybe[inv.Key+"|"+inv.F] = true
			}
		case "list":
			if op.Outcome() == history.KindOK && inv.Value == history.ListFinal {
				ep.final = &op
			}
		}
	}
	for _, e := range events {
		if e.Kind != history.KindObserve || e.Workload != watchWorkload {
			continue
		}
		ep := get(e.Episode)
		if _, ok := ep.caches[e.Node]; !ok {
			ep.ordered = append(ep.ordered, e.Node)
		}
		ep.caches[e.Node] = append(ep.caches[e.Node], e)
	}
	return eps
}

// writeOf maps a cache change to the write that makes it.
var writeOf = map[string]string{"add": "create", "delete": "delete"}

// judgeCache checks one cache's observations against its episode's writes.
func judgeCache(n int, name string, ep *watchEpisode) WatchCache {
	c := WatchCache{Episode: n, Cache: name}
	type gap struct{ from, to uint64 }
	var gaps []gap
	var last *history.Event // the final observation
	seen := map[uint64]map[string]bool{}
	var pos uint64 // the revision of the last streamed change (or listing)
	synced := false
	for _, e := range ep.caches[name] {
		switch {
		case e.F == "synced":
			c.Synced, pos, synced = e.Rev, max(pos, e.Rev), true
		case e.F == "final":
			last = &e
		case e.Detail == "relist":
			if synced && e.Rev > pos {
				c.Relists++
				gaps = append(gaps, gap{pos, e.Rev})
				pos = e.Rev
			}
		default:
			c.Events++
			desc := fmt.Sprintf("%s %s@%d", e.F, e.Key, e.Rev)
			if seen[e.Rev][e.Key] {
				c.Duplicated = append(c.Duplicated, desc)
				continue
			}
			if e.Rev < pos {
				c.OutOfOrder = append(c.OutOfOrder, fmt.Sprintf("%s after a change at %d", desc, pos))
			}
			if seen[e.Rev] == nil {
				seen[e.Rev] = map[string]bool{}
			}
			seen[e.Rev][e.Key] = true
			pos = max(pos, e.Rev)
			if w, ok := ep.acked[e.Rev]; ok {
				if w.key != e.Key || writeOf[e.F] != w.op {
					c.Unexpected = append(c.Unexpected, fmt.Sprintf("%s, but the write at %d was %s %s", desc, e.Rev, w.op, w.key))
				}
			} else if !ep.maybe[e.Key+"|"+writeOf[e.F]] {
				c.Unexpected = append(c.Unexpected, desc+" matches no write")
			}
		}
	}
	c.Reached = pos
	if last != nil {
		c.Reached = max(pos, last.Rev)
		var st history.CacheStats
		if json.Unmarshal(last.Data, &st) == nil {
			c.Reconnects = st.Reconnects
		}
	}
	for _, rev := range slices.Sorted(maps.Keys(ep.acked)) {
		w := ep.acked[rev]
		if rev <= c.Synced || rev > c.Reached || seen[rev][w.key] {
			continue
		}
		if !slices.ContainsFunc(gaps, func(g gap) bool { return rev > g.from && rev <= g.to }) {
			c.Missed = append(c.Missed, fmt.Sprintf("%s %s@%d", w.op, w.key, rev))
		}
	}
	c.Converged, c.Diverged = converged(last, ep.final)
	return c
}

// converged compares a cache's final state with the final listing; without a listing there
// is nothing to compare (the validity check makes the run INCOMPLETE).
func converged(last *history.Event, final *history.Op) (bool, string) {
	switch {
	case final == nil:
		return false, ""
	case last == nil:
		return false, "no final state recorded"
	case last.Error != "":
		return false, last.Error
	case last.Rev < final.Done.ServerIndex:
		return false, fmt.Sprintf("at revision %d, below the final listing's %d", last.Rev, final.Done.ServerIndex)
	}
	want := map[string]bool{}
	for _, x := range final.Done.Elements {
		want[x] = true
	}
	var missing, extra []string
	got := map[string]bool{}
	for _, x := range last.Elements {
		got[x] = true
		if !want[x] {
			extra = append(extra, x)
		}
	}
	for x := range want {
		if !got[x] {
			missing = append(missing, x)
		}
	}
	if len(missing)+len(extra) > 0 {
		slices.Sort(missing)
		slices.Sort(extra)
		return false, fmt.Sprintf("missing %v, extra %v", missing, extra)
	}
	return true, ""
}

// missingWatchListings finds episodes where the watch workload wrote but no final listing
// succeeded.
func missingWatchListings(events []history.Event) []string {
	var out []string
	eps := collectWatch(events)
	for _, n := range sortedInts(eps) {
		if eps[n].final == nil && len(eps[n].acked)+len(eps[n].maybe) > 0 {
			out = append(out, fmt.Sprintf("watch: episode %d: no final listing succeeded", n))
		}
	}
	return out
}
