//go:build watchbug

package workload

// muxBugDrops is the watchbug build's fault in the mux observer, as in client.Cache: each
// watch loses the third event it is sent, so the watch checker must report that change
// missed by every mux watch too. Never build a release with this tag.
func (mw *muxWatch) muxBugDrops() bool { return mw.events == 3 }
