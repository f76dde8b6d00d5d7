// Package conductor is cellmap's reference per-cell conductor: the process that owns ONE cell's
// database and answers the cell conductor API (see api/conductor.go) that cellproxy calls.
//
// # Cell database
//
// [DB] is a bbolt file (DataDir/cell.db) holding the cell's instances (full records, soft
// deleted like Nova's) and its simulated compute hosts with their capacity, used amounts and
// Nova's compute_nodes.mapped flag. Building an instance claims capacity on one host in the same
// transaction that inserts it; deleting frees it in the same transaction that marks it deleted.
// A created_at index makes the default listing order (created_at desc, uuid asc) and its
// ascending twin cheap; other orders sort the matching rows in memory.
//
// # Process
//
// [Conductor] ties the database to an HTTP API (gorilla/mux, routes in routes.go) and to the
// gossip pool, where it advertises {role: conductor, cell_uuid, http_addr} so the API tier knows
// the cell is up and where to reach it.
//
// # Caveats
//
// Sort values compare byte-wise (Go string order), not with a database collation; cellproxy's
// cross-cell merge must compare the same way.
package conductor
