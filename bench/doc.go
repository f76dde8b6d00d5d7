// Package bench is cellmap's load generator: a closed-loop workload runner with HDR
// latency histograms, the workloads of issue #5 (lookup, lookup-stale, create, cas, mixed,
// bulk, list), a human and a JSON report, the cellmap/etcd ratio table, and the scale run
// (1,000,000 mappings in a 3-node cluster).
//
// A workload runs against a [Target]. This package implements the cellmap target on the Go
// client; the etcd target lives in the nested module bench/etcd, so etcd's client never
// becomes a dependency of the service. Both sides run the identical runner.
//
// Everything is bounded: a run ends after its count or duration, and never later than
// [MaxDuration]. Endpoints must be loopback addresses.
package bench
