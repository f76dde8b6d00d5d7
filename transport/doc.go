// Package transport holds cellmap's network plumbing that knows nothing of raft or the state:
// the TCP port shared by raft traffic, node metadata queries and framed requests ([Mux]; frames
// read as their bytes arrive, with deadlines and connection caps per peer and in all), the pooled HTTP
// clients nodes use to forward requests ([NewHTTPClient]), and fault hooks ([Faults]) that tests
// and the chaos harness use to delay or drop traffic in user space.
package transport
