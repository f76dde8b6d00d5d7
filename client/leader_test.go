package client

import (
	"net/http"
	"testing"

	"github.com/cellmap/cellmap/api"
)

// TestRouted: the writes of the API go to the leader; reads, the operator's and the cluster
// membership's requests stay on the node they are sent to.
func TestRouted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{http.MethodPut, "/v1/instance-mappings/x", true},
		{http.MethodPost, "/v1/txn", true},
		{http.MethodPatch, "/v1/cells/x", true},
		{http.MethodDelete, "/v1/hosts/h", true},
		{http.MethodGet, "/v1/instance-mappings/x", false},
		{http.MethodPost, "/v1/operator/restore", false},
		{http.MethodDelete, "/v1/cluster/servers/n2", false},
		{http.MethodPost, "/internal/faults", false},
	} {
		if got := routed(tc.method, tc.path); got != tc.want {
			t.Errorf("routed(%s %s) = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}

// TestObserveLeader: an answer naming a leader teaches it; one without the header, or with a
// value that is not a bare host:port of one host, teaches nothing; a forgotten address is not taken back
// from the next answer (it could not be connected to), another one is.
func TestObserveLeader(t *testing.T) {
	t.Parallel()
	hdr := func(v string) http.Header { return http.Header{api.HeaderLeader: {v}} }
	r := newLeaderRoute("https://lb.example:443")
	r.observe(http.Header{})
	r.observe(hdr("evil.example/path"))
	r.observe(hdr("user@evil.example:1"))
	r.observe(hdr("no-port"))
	r.observe(hdr(":8480"))
	r.observe(hdr("0.0.0.0:8480"))
	r.observe(hdr("[::]:8480"))
	if got := r.current(); got != "" {
		t.Fatalf("leader %q from answers that name none", got)
	}
	r.observe(hdr("10.0.0.1:8480"))
	if got := r.current(); got != "https://10.0.0.1:8480" {
		t.Fatalf("leader %q, want https://10.0.0.1:8480", got)
	}
	r.forget("https://10.0.0.1:8480")
	r.observe(hdr("10.0.0.1:8480"))
	if got := r.current(); got != "" {
		t.Fatalf("leader %q right after it could not be reached", got)
	}
	r.observe(hdr("10.0.0.2:8480"))
	if got := r.current(); got != "https://10.0.0.2:8480" {
		t.Fatalf("leader %q, want the new one", got)
	}
	r.forget("https://10.0.0.1:8480") // an older failure does not drop the newer leader
	if got := r.current(); got != "https://10.0.0.2:8480" {
		t.Fatalf("leader %q after forgetting another address", got)
	}
}
