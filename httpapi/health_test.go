package httpapi_test

import (
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/httpapi"
)

// readyNode is a Node whose readiness the test sets.
type readyNode struct {
	stubNode
	ok     bool
	reason string
}

func (n readyNode) Ready() (bool, string) { return n.ok, n.reason }
func (readyNode) AppliedIndex() uint64    { return 7 }

// TestReadyz checks what /readyz (public: no token) reports: the node's readiness (a leader
// known, the state caught up) and, with TLS, a loaded certificate within its validity period.
func TestReadyz(t *testing.T) {
	t.Parallel()
	now := time.Now()
	valid := &x509.Certificate{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	expired := &x509.Certificate{NotBefore: now.Add(-2 * time.Hour), NotAfter: now.Add(-time.Hour)}
	future := &x509.Certificate{NotBefore: now.Add(time.Hour), NotAfter: now.Add(2 * time.Hour)}
	tests := []struct {
		name       string
		node       readyNode
		cert       func() *x509.Certificate
		status     int
		wantReason string
	}{
		{"ready without TLS", readyNode{ok: true}, nil, http.StatusOK, ""},
		{"no leader", readyNode{reason: "no leader known"}, nil, http.StatusServiceUnavailable, "no leader known"},
		{"catching up", readyNode{reason: "state is catching up"}, func() *x509.Certificate { return valid },
			http.StatusServiceUnavailable, "state is catching up"},
		{"ready with TLS", readyNode{ok: true}, func() *x509.Certificate { return valid }, http.StatusOK, ""},
		{"no certificate", readyNode{ok: true}, func() *x509.Certificate { return nil }, http.StatusServiceUnavailable, "no TLS certificate loaded"},
		{"expired certificate", readyNode{ok: true}, func() *x509.Certificate { return expired },
			http.StatusServiceUnavailable, "the TLS certificate expired at"},
		{"certificate not yet valid", readyNode{ok: true}, func() *x509.Certificate { return future },
			http.StatusServiceUnavailable, "the TLS certificate is not valid before"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := httpapi.DefaultConfig()
			cfg.Certificate = tc.cert
			svc, err := httpapi.New(cfg, tc.node, nil)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			svc.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			var h api.Health
			if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil {
				t.Fatalf("body %q: %v", rec.Body.String(), err)
			}
			if rec.Code != tc.status || !strings.HasPrefix(h.Reason, tc.wantReason) || (tc.status == http.StatusOK) != (h.Status == "ok") {
				t.Fatalf("got %d %+v, want %d reason %q", rec.Code, h, tc.status, tc.wantReason)
			}
		})
	}
}
