// Package transport holds cellmap's network plumbing that knows nothing of raft or the state:
// the TCP port shared by raft traffic and node metadata queries ([Mux]), the pooled HTTP
// clients nodes use to forward requests ([NewHTTPClient]), and fault hooks ([Faults]) that tests
// and the chaos harness use to delay or drop traffic in user space.
package transport
