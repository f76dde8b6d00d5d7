package client

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellmap/cellmap/api"
)

// leaderRetryAfter is how long the client ignores a leader address it could not connect to
// (the node may be down, or, behind a load balancer, unreachable from the client); its writes
// go to the endpoint it was given meanwhile.
const leaderRetryAfter = 30 * time.Second

// leaderRoute is what a client with Config.LeaderWrites knows of the leader: the base URL of
// its API, learnt from the api.HeaderLeader of the answers. It is shared by the clients made
// from one (WithToken, At): the leader is a fact of the cluster.
type leaderRoute struct {
	scheme string
	leader atomic.Pointer[string] // base URL of the leader's API; nil: unknown

	mu       sync.Mutex
	failed   string // host:port the client could not connect to
	failedAt time.Time
}

func newLeaderRoute(base string) *leaderRoute {
	scheme, _, _ := strings.Cut(base, "://")
	return &leaderRoute{scheme: scheme}
}

// current is the leader's base URL, "" when unknown.
func (r *leaderRoute) current() string {
	if p := r.leader.Load(); p != nil {
		return *p
	}
	return ""
}

// observe learns the leader an answer names. An answer without the header teaches nothing
// (public endpoints, refusals, a load balancer's own answers); a leader that is gone is
// forgotten when the client cannot reach it (forget).
func (r *leaderRoute) observe(h http.Header) {
	vs := h[api.HeaderLeader]
	if len(vs) == 0 || vs[0] == "" {
		return
	}
	addr := vs[0]
	base := r.scheme + "://" + addr
	if p := r.leader.Load(); p != nil && *p == base {
		return
	}
	if !validHostPort(addr) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if addr == r.failed && time.Since(r.failedAt) < leaderRetryAfter {
		return
	}
	r.leader.Store(&base)
}

// forget drops the leader at base after a request to it provably did not reach it (or it
// knew no leader): the client's writes go to its own endpoint until an answer names a leader
// again, and not to this address for leaderRetryAfter.
func (r *leaderRoute) forget(base string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.leader.Load(); p != nil && *p == base {
		r.leader.CompareAndSwap(p, nil) // a newer leader learnt meanwhile stays
	}
	r.failed, r.failedAt = strings.TrimPrefix(base, r.scheme+"://"), time.Now()
}

// validHostPort reports whether s is a bare host:port (no scheme, path or user info) that
// names one host: not an unspecified address (0.0.0.0, ::), which a node listening on every
// interface would name.
func validHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || port == "" || strings.ContainsAny(s, "/@?# ") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsUnspecified()
}

// routed reports whether a request goes to the leader when the client knows it: the writes
// of the API (POST, PUT, PATCH and DELETE under /v1/), except the operator's and the cluster
// membership's, which act on the node they are sent to.
func routed(method, path string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return false
	}
	return strings.HasPrefix(path, "/v1/") && !strings.HasPrefix(path, "/v1/operator/") &&
		!strings.HasPrefix(path, "/v1/cluster/")
}

// definitelyNotDone reports whether an API error says the node did nothing with the write, so
// that sending it to another node cannot apply it twice: the node knew no leader (no_leader),
// or was not the leader and did not forward (not_leader).
func definitelyNotDone(err error) bool {
	switch CodeOf(err) {
	case api.CodeNoLeader, api.CodeNotLeader:
		return true
	}
	return false
}
