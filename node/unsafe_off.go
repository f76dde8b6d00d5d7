//go:build !cellmap_unsafe_reads

package node

// unsafeLocalReads is the deliberately broken read mode of the chaos harness's self-test; it is
// false in every normal build (see unsafe_on.go).
const unsafeLocalReads = false
