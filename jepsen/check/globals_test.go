package check

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/jepsen/history"
)

// state builds a final state from "id@host" servers and groups of member ids.
func state(limit, usage int64, servers []string, groups map[int64][]string) string {
	var b strings.Builder
	b.WriteString(`{"project":"p","limit":` + itoa(limit) + `,"usage":` + itoa(usage) + `,"servers":[`)
	for i, s := range servers {
		id, host, _ := strings.Cut(s, "@")
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"id":"` + id + `","host":"` + host + `","status":"ACTIVE"}`)
	}
	b.WriteString(`],"groups":[`)
	first := true
	for max, members := range groups {
		if !first {
			b.WriteString(",")
		}
		first = false
		b.WriteString(`{"id":"g` + itoa(max) + `","max_per_host":` + itoa(max) + `,"members":["` + strings.Join(members, `","`) + `"]}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestCheckGlobals: the final state passes with usage within the limit and equal to the live
// servers and every group within its per-host limit; an overshoot, a usage that does not match
// the servers, two members of a max-1 group on one host, or three of a max-2 group fail.
// A create refused over quota counts; a missing final state is INCOMPLETE, not FAIL.
func TestCheckGlobals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		final string
		want  string // "" valid, else a fragment of the summary
	}{
		{"valid", state(4, 3, []string{"a@h1", "b@h2", "c@h1"}, map[int64][]string{1: {"a", "b"}, 2: {"c"}}), ""},
		{"max 2 holds two", state(4, 3, []string{"a@h1", "b@h1", "c@h2"}, map[int64][]string{2: {"a", "b"}}), ""},
		{"members in cell0 have no host", state(4, 2, []string{"a@", "b@"}, map[int64][]string{1: {"a", "b"}}), ""},
		{"overshoot", state(2, 3, []string{"a@h1", "b@h2", "c@h3"}, nil), "usage 3 over the limit 2"},
		{"usage behind the servers", state(4, 2, []string{"a@h1", "b@h2", "c@h3"}, nil), "usage 2 but 3 live servers"},
		{"anti-affinity broken", state(4, 2, []string{"a@h1", "b@h1"}, map[int64][]string{1: {"a", "b"}}), "2 members on host h1 (at most 1)"},
		{"max 2 broken", state(4, 3, []string{"a@h1", "b@h1", "c@h1"}, map[int64][]string{2: {"a", "b", "c"}}), "3 members on host h1 (at most 2)"},
	} {
		var b hb
		b.phase(0, history.PhaseEpisodeStart, 1)
		b.op(1, 2, history.Event{Process: 1, Workload: "globals", F: "create", Key: "p"}, history.KindOK, history.Event{})
		b.op(3, 4, history.Event{Process: 1, Workload: "globals", F: "create", Key: "p"}, history.KindFail, history.Event{Error: "quota_exceeded"})
		b.op(5, 6, history.Event{Process: 2, Workload: "globals", F: "final-state", Key: "p"}, history.KindOK, history.Event{Data: []byte(tc.final)})
		res := checkGlobals(b.events)
		if res.Valid != (tc.want == "") || !strings.Contains(res.Summary, tc.want) {
			t.Errorf("%s: valid %v, summary %q; want %q", tc.name, res.Valid, res.Summary, tc.want)
		}
		if eps := res.Details.([]GlobalsEpisode); len(eps) != 1 || eps[0].Creates.OK != 1 || eps[0].QuotaRefused != 1 || !eps[0].Final {
			t.Errorf("%s: details %+v", tc.name, res.Details)
		}
		if missing := missingGlobalsFinal(b.events); len(missing) != 0 {
			t.Errorf("%s: %v", tc.name, missing)
		}
	}
	var b hb
	b.op(1, 2, history.Event{Process: 1, Workload: "globals", F: "create", Key: "p"}, history.KindOK, history.Event{})
	if res := checkGlobals(b.events); !res.Valid {
		t.Errorf("no final state is not a failure: %+v", res)
	}
	if missing := missingGlobalsFinal(b.events); len(missing) != 1 {
		t.Errorf("no final state must make the run incomplete: %v", missing)
	}
}
