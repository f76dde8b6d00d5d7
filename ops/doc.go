// Package ops holds the mapping operations that take more than one step: deleting a cell or a
// host mapping asks the cell's database first and tells the cell afterwards, through a [Guard]
// (the cells data plane, package cellproxy). Without a guard they are plain writes with the
// state's own checks. The HTTP API calls them; they know nothing of HTTP.
package ops
