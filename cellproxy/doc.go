// Package cellproxy is cellmap's data plane: it routes server requests to the conductor of the
// right cell and keeps answering when a cell is down.
//
// A [Registry] follows the gossip pool: a cell is up while at least one of its conductors is
// alive and has not just failed a request. A [Proxy] creates servers (request spec, build
// request and mapping in one transaction, then scheduling to an up, enabled cell with room for
// the flavor, or burial in cell0), shows, lists (all cells in parallel under one deadline,
// merged in Nova's order, minimal records for down cells) and deletes them, and runs the
// operator actions that need a cell's database: discover_hosts, map_instances,
// verify_instance and the delete_cell / delete_host checks.
//
// Differences from Nova, on purpose: a cell known to be down is never waited on; the list
// deadline is a few seconds, not 60; paging across cells uses the marker's sort values with a
// strict total order (uuid as the last key) instead of Nova's "local marker" lookup; the
// map_instances marker is kept per cell in the replicated state.
package cellproxy
