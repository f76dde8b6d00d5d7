package main

import (
	"io"
	"testing"
)

// fakeGC records what cellmapd sets; it starts as the Go runtime does without GOGC and
// GOMEMLIMIT, or with the values given.
type fakeGC struct {
	percent int
	limit   int64
	sets    int
}

func (f *fakeGC) runtime() gcRuntime {
	return gcRuntime{
		setPercent: func(p int) int { old := f.percent; f.percent = p; f.sets++; return old },
		setLimit: func(l int64) int64 {
			old := f.limit
			if l >= 0 {
				f.limit = l
			}
			return old
		},
	}
}

// TestGCSettings: the node's garbage collector runs at --gc-percent (400 by default) and
// --memory-limit, unless Go's own GOGC or GOMEMLIMIT is in the environment, which then stays
// as the runtime read it.
func TestGCSettings(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		start       fakeGC // the runtime's settings at start (what GOGC/GOMEMLIMIT made them)
		wantPercent int
		wantLimit   int64
	}{
		{"defaults", nil, nil, fakeGC{percent: 100, limit: noMemoryLimit}, defaultGCPercent, noMemoryLimit},
		{"flags", []string{"--gc-percent", "200", "--memory-limit", "1073741824"}, nil,
			fakeGC{percent: 100, limit: noMemoryLimit}, 200, 1 << 30},
		{"cellmap environment", nil, map[string]string{"CELLMAP_GC_PERCENT": "150", "CELLMAP_MEMORY_LIMIT": "536870912"},
			fakeGC{percent: 100, limit: noMemoryLimit}, 150, 1 << 29},
		{"GOGC wins", []string{"--gc-percent", "200"}, map[string]string{"GOGC": "50"},
			fakeGC{percent: 50, limit: noMemoryLimit}, 50, noMemoryLimit},
		{"GOMEMLIMIT wins", []string{"--memory-limit", "1073741824"}, map[string]string{"GOMEMLIMIT": "2GiB"},
			fakeGC{percent: 100, limit: 2 << 30}, defaultGCPercent, 2 << 30},
		{"collector off under a limit", []string{"--gc-percent", "-1", "--memory-limit", "1073741824"}, nil,
			fakeGC{percent: 100, limit: noMemoryLimit}, -1, 1 << 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			o, err := parseFlags(append([]string{"--dev"}, tc.args...), io.Discard, lookup)
			if err != nil {
				t.Fatal(err)
			}
			rt := tc.start
			percent, limit := o.gc.apply(rt.runtime(), lookup)
			if percent != tc.wantPercent || rt.percent != tc.wantPercent {
				t.Errorf("GC percent: reported %d, in force %d, want %d", percent, rt.percent, tc.wantPercent)
			}
			if limit != tc.wantLimit || rt.limit != tc.wantLimit {
				t.Errorf("memory limit: reported %d, in force %d, want %d", limit, rt.limit, tc.wantLimit)
			}
		})
	}
}

// TestGCFlagsRefuseBadValues: a collector setting that makes no sense stops the node at start.
func TestGCFlagsRefuseBadValues(t *testing.T) {
	for _, args := range [][]string{
		{"--gc-percent", "-2"},
		{"--memory-limit", "-1"},
		{"--gc-percent", "-1"}, // off without a limit: the heap would grow without bound
		{"--gc-percent", "lots"},
	} {
		if _, err := parseFlags(append([]string{"--dev"}, args...), io.Discard, func(string) (string, bool) { return "", false }); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
