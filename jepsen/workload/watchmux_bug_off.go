//go:build !watchbug

package workload

// muxBugDrops is the seam of the watchbug build tag (watchmux_bug_on.go); normal builds never
// drop an event.
func (mw *muxWatch) muxBugDrops() bool { return false }
