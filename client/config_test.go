package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
)

func TestConfig(t *testing.T) {
	tlsCfg := &tls.Config{}
	tests := []struct {
		addr     string
		tls      *tls.Config
		wantBase string // "" invalid
	}{
		{"127.0.0.1:8480", nil, "http://127.0.0.1:8480"},
		{"127.0.0.1:8480", tlsCfg, "https://127.0.0.1:8480"},
		{"https://node1:8480/", tlsCfg, "https://node1:8480"},
		{"https://node1:8480", nil, "https://node1:8480"},
		{"http://node1:8480", nil, "http://node1:8480"},
		{"http://node1:8480", tlsCfg, ""},
		{"ftp://node1:8480", nil, ""},
		{"https://", nil, ""},
		{"", nil, ""},
	}
	for _, tt := range tests {
		c, err := NewWithConfig(&Config{Addr: tt.addr, TLS: tt.tls})
		if tt.wantBase == "" {
			if err == nil {
				t.Errorf("%q (TLS %v): accepted", tt.addr, tt.tls != nil)
			}
			continue
		}
		if err != nil || c.Addr() != tt.wantBase {
			t.Errorf("%q (TLS %v): got %v, %v; want %s", tt.addr, tt.tls != nil, c, err, tt.wantBase)
		}
	}
	if got := DefaultConfig(); got.Validate() != nil || got.baseURL() != "http://127.0.0.1:8480" {
		t.Errorf("default config: %+v", got)
	}
}

// TestHandshakeFailureIsNotSent: a write whose TLS handshake fails (the server's certificate
// is not trusted) was never sent, so its outcome is not unknown.
func TestHandshakeFailureIsNotSent(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c, err := NewWithConfig(&Config{Addr: srv.URL, TLS: &tls.Config{RootCAs: x509.NewCertPool()}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err = c.PutInstanceMapping(ctx, "6f1c2a3b-0000-4000-8000-000000000001", api.InstanceMappingPut{ProjectID: "p"}, Condition{})
	if err == nil || IsOutcomeUnknown(err) || hits.Load() != 0 {
		t.Fatalf("got %v (outcome unknown %v), %d requests served; want a definite failure, none served", err, IsOutcomeUnknown(err), hits.Load())
	}
}
