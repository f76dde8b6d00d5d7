// Package api holds cellmap's HTTP wire types: the JSON bodies of the v1 API, the error codes,
// the headers and query parameters. It depends only on the standard library so that services
// doing lookups (through package client) pull in nothing else.
//
// Field names follow Nova's (cell_uuid, transport_url, queued_for_delete, ...), so they read
// familiar to operators of a cells v2 cloud.
package api
