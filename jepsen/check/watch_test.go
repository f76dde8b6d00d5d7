package check

import (
	"strings"
	"testing"

	"github.com/cellmap/cellmap/jepsen/history"
)

// watchHist builds watch workload histories (episode 1; times in ms).
type watchHist struct{ hb }

func (b *watchHist) write(t int64, f, key string, kind history.Kind, rev uint64) {
	b.op(t, t+1, history.Event{Episode: 1, Process: 1, Workload: "watch", F: f, Key: key, Node: "n1"}, kind, history.Event{Rev: rev})
}

// seen records a cache's observation "f key@rev" (f add, delete, synced, relist-add, ...).
func (b *watchHist) seen(cache, f, key string, rev uint64) {
	e := history.Event{Kind: history.KindObserve, Episode: 1, Workload: "watch", Node: cache, F: f, Key: key, Rev: rev}
	if r, ok := strings.CutPrefix(f, "relist-"); ok {
		e.F, e.Detail = r, "relist"
	}
	b.add(e)
}

func (b *watchHist) final(cache string, rev uint64, errText string, elems ...string) {
	b.add(history.Event{Kind: history.KindObserve, Episode: 1, Workload: "watch", Node: cache, F: "final", Rev: rev, Error: errText,
		Elements: elems})
}

// TestCheckWatch: the checker passes a cache that fired every acknowledged write once, in
// order (and a write of unknown outcome that happened), and fails one that misses, repeats,
// reorders or invents a change, or whose final state differs from the final listing; a relist
// may skip the writes it covers.
func TestCheckWatch(t *testing.T) {
	type obs struct{ f, key string }
	type seenAt struct {
		obs
		rev uint64
	}
	normal := []seenAt{{obs{"add", "a"}, 10}, {obs{"add", "b"}, 11}, {obs{"delete", "a"}, 12}}
	tests := []struct {
		name   string
		events []seenAt
		final  []string // the cache's final elements
		reach  uint64
		errTxt string
		want   string // "" = valid, else a word of the summary
	}{
		{"every write once, in order", normal, []string{"b"}, 15, "", ""},
		{"a write of unknown outcome that happened", append(normal[:3:3], seenAt{obs{"add", "c"}, 13}), []string{"b", "c"}, 15, "", ""},
		{"dropped", []seenAt{normal[0], normal[2]}, []string{"b"}, 15, "", "1 missed"},
		{"reordered", []seenAt{normal[1], normal[0], normal[2]}, []string{"b"}, 15, "", "1 out of order"},
		{"duplicated", []seenAt{normal[0], normal[0], normal[1], normal[2]}, []string{"b"}, 15, "", "1 duplicated"},
		{"invented", append(normal[:3:3], seenAt{obs{"add", "z"}, 14}), []string{"b"}, 15, "", "1 unexpected"},
		{"a failed write", append(normal[:3:3], seenAt{obs{"add", "d"}, 14}), []string{"b"}, 15, "", "1 unexpected"},
		{"wrong op at a revision", []seenAt{normal[0], normal[1], {obs{"add", "a"}, 12}}, []string{"b"}, 15, "", "1 unexpected"},
		{"not converged", normal, []string{"a", "b"}, 15, "", "not converged"},
		{"stopped early", normal[:1], nil, 10, "did not reach the final listing's index 15", "not converged"},
		{"relist covers a gap", []seenAt{normal[0], {obs{"relist-delete", "a"}, 13}, {obs{"relist-add", "b"}, 13}}, []string{"b"}, 15, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b watchHist
			b.phase(0, history.PhaseEpisodeStart, 1)
			b.seen("cache1", "synced", "", 5)
			b.write(1, "create", "a", history.KindOK, 10)
			b.write(2, "create", "b", history.KindOK, 11)
			b.write(3, "delete", "a", history.KindOK, 12)
			b.write(4, "create", "c", history.KindInfo, 0)
			b.write(5, "create", "d", history.KindFail, 0)
			for _, e := range tc.events {
				b.seen("cache1", e.f, e.key, e.rev)
			}
			want := []string{"b"}
			if tc.name == "a write of unknown outcome that happened" {
				want = []string{"b", "c"} // it happened: the listing has it too
			}
			b.op(20, 21, history.Event{Episode: 1, Process: 2, Workload: "watch", F: "list", Key: "p", Node: "n2", Value: history.ListFinal},
				history.KindOK, history.Event{Elements: want, ServerIndex: 15})
			b.final("cache1", tc.reach, tc.errTxt, tc.final...)
			res := checkWatch(b.events)
			if tc.want == "" {
				if !res.Valid {
					t.Fatalf("want valid, got %s", res.Summary)
				}
				return
			}
			if res.Valid || !strings.Contains(res.Summary, tc.want) {
				t.Fatalf("want a failure with %q, got valid=%v: %s", tc.want, res.Valid, res.Summary)
			}
		})
	}
}

// TestWatchNeedsAFinalListing: an episode whose watch writes have no final listing makes the
// run INCOMPLETE, not FAIL.
func TestWatchNeedsAFinalListing(t *testing.T) {
	var b watchHist
	b.write(1, "create", "a", history.KindOK, 10)
	if got := missingWatchListings(b.events); len(got) != 1 || !strings.Contains(got[0], "episode 1") {
		t.Fatalf("missing listings: %v", got)
	}
	if res := checkWatch(b.events); !res.Valid {
		t.Fatalf("no cache, no listing: nothing to fail, got %s", res.Summary)
	}
}
