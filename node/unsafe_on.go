//go:build cellmap_unsafe_reads

package node

// unsafeLocalReads makes "linearizable" reads skip the leadership check and serve the local
// state. It exists only so the chaos harness can prove it catches stale reads; it is compiled
// in only with `-tags cellmap_unsafe_reads` and never in a release build.
const unsafeLocalReads = true
