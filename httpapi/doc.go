// Package httpapi serves cellmap's HTTP API v1 (gorilla/mux) on top of a node: cells, cell0,
// hosts, instance mappings, transactions, flavors, cluster membership and health. Routes are
// registered in one place (routes.go); handlers are methods on [Service]: they decode, call
// one method (of the small [Node] interface declared here, of package ops, or of the cells data
// plane) and encode. Reads pass the consistency the request asks for to Node.Read.
//
// Every answer carries X-Cellmap-Index. Errors are JSON ({"error": {"code", "message"}}) with a
// fitting status (each layer names its own errors' codes; api.Status maps codes to statuses);
// bad input (unknown fields, bad uuids, oversized bodies) gets a 4xx and changes nothing.
// Writes whose outcome is unknown answer 503 outcome_unknown.
package httpapi
