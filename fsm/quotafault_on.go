//go:build cellmap_fault_quota

package fsm

// skipQuotaLimits makes a claim ignore the project's limits. It exists only so the chaos
// harness can prove its globals checker catches a quota overshoot; it is compiled in only with
// `-tags cellmap_fault_quota` and never in a release build.
const skipQuotaLimits = true
