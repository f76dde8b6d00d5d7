package main

import (
	"errors"
	"flag"
	"math"
)

// defaultGCPercent is cellmapd's GOGC. A node's live heap is small (the state is bbolt's
// memory map, outside the heap) while every write allocates bbolt's node copies, so Go's
// default of 100 collects often for little: 400 cut the CPU per create by 12-15 % (medians of
// three side-by-side rounds, README "Write path"), for a heap up to five times the live one;
// bulk loads cost about 9 % more CPU and half again the peak RSS (README).
const defaultGCPercent = 400

// gcFlags are the Go garbage collector's settings of the node. Go's own GOGC and GOMEMLIMIT,
// when set in the environment, win over them.
type gcFlags struct {
	percent     int
	memoryLimit int64
}

func (g *gcFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&g.percent, "gc-percent", defaultGCPercent,
		"the garbage collector's GOGC: heap growth in percent that triggers a collection (-1: off, needs --memory-limit); GOGC in the environment wins")
	fs.Int64Var(&g.memoryLimit, "memory-limit", 0,
		"soft limit of the Go runtime's memory in bytes: the collector works harder near it (0: none); GOMEMLIMIT in the environment wins")
}

func (g *gcFlags) check() error {
	switch {
	case g.percent < -1:
		return errors.New("--gc-percent must be -1 (off) or at least 0")
	case g.memoryLimit < 0:
		return errors.New("--memory-limit must not be negative")
	case g.percent == -1 && g.memoryLimit == 0:
		return errors.New("--gc-percent -1 turns the collector off and needs --memory-limit, or the heap grows without bound")
	}
	return nil
}

// gcRuntime sets the collector (runtime/debug's SetGCPercent and SetMemoryLimit in
// production; each returns the previous setting).
type gcRuntime struct {
	setPercent func(int) int
	setLimit   func(int64) int64
}

// apply sets the collector as the flags say, leaving what GOGC or GOMEMLIMIT set in the
// environment (lookup) as it is, and returns the settings in force for the log.
func (g *gcFlags) apply(rt gcRuntime, lookup func(string) (string, bool)) (percent int, limit int64) {
	if _, ok := lookup("GOGC"); ok {
		percent = rt.setPercent(100)
		rt.setPercent(percent)
	} else {
		rt.setPercent(g.percent)
		percent = g.percent
	}
	if _, ok := lookup("GOMEMLIMIT"); ok || g.memoryLimit == 0 {
		limit = rt.setLimit(-1) // reads the limit in force
		return percent, limit
	}
	rt.setLimit(g.memoryLimit)
	return percent, g.memoryLimit
}

// noMemoryLimit is the runtime's limit when none is set.
const noMemoryLimit = math.MaxInt64
