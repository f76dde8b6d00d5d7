// Package floor is the raft floor (cellmap-bench raft-floor): three processes that are
// nothing but the required libraries — hashicorp/raft on raft-boltdb with cellmap's production
// raft settings, the library's TCP transport and a minimal state machine — with the load
// applied inside the leader, so no HTTP, no client, no forwarding. What it sustains is more
// than any service built on those libraries can on the same machine, so it bounds what
// cellmap's write path can reach against etcd (issue 13).
package floor
