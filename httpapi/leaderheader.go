package httpapi

import (
	"net"
	"net/http"

	"github.com/cellmap/cellmap/api"
)

// leaderAddresser is a node that knows its leader's HTTP API address without waiting
// (node.Node).
type leaderAddresser interface{ LeaderHTTPAddr() string }

// setLeader names the leader's API address in an answer (api.HeaderLeader) when the node
// knows it. It runs once a request is authenticated and authorized (guardWith): the address
// is for callers with a valid token of the route's role, never for refused or anonymous ones.
func (s *Service) setLeader(w http.ResponseWriter) {
	la, ok := s.node.(leaderAddresser)
	if !ok {
		return
	}
	if addr := la.LeaderHTTPAddr(); dialable(addr) {
		w.Header()[api.HeaderLeader] = []string{addr}
	}
}

// dialable reports whether a node's --http-addr names a host others can dial: not "" nor a
// listen address of every interface (":8480", "0.0.0.0:8480", "[::]:8480").
func dialable(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsUnspecified()
}
