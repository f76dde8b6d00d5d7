//go:build !cellmap_fault_quota

package fsm

// skipQuotaLimits is the deliberately broken quota mode of the chaos harness's self-test; it
// is false in every normal build (see quotafault_on.go).
const skipQuotaLimits = false
