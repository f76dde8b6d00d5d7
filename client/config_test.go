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

// TestHTTP2: the client speaks HTTP/1.1 unless Config.HTTP2 asks for HTTP/2: by ALPN over TLS,
// with prior knowledge (h2c) in cleartext. With HTTP/2 every
// request shares one connection.
func TestHTTP2(t *testing.T) {
	tests := []struct {
		name      string
		tls, h2c  bool
		wantMajor int
	}{
		{"cleartext", false, false, 1},
		{"h2c", false, true, 2},
		{"tls", true, false, 1},
		{"tls with HTTP2 set", true, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type seen struct {
				major  int
				remote string
			}
			got := make(chan seen, 4)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got <- seen{r.ProtoMajor, r.RemoteAddr}
				w.Header().Set(api.HeaderIndex, "1")
			}))
			srv.Config.Protocols = new(http.Protocols)
			srv.Config.Protocols.SetHTTP1(true)
			srv.Config.Protocols.SetHTTP2(true)
			srv.Config.Protocols.SetUnencryptedHTTP2(true)
			cfg := &Config{Addr: srv.Listener.Addr().String(), HTTP2: tt.h2c}
			if tt.tls {
				srv.EnableHTTP2 = true
				srv.StartTLS()
				pool := x509.NewCertPool()
				pool.AddCert(srv.Certificate())
				cfg.TLS = &tls.Config{RootCAs: pool}
			} else {
				srv.Start()
			}
			defer srv.Close()
			c, err := NewWithConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for range 2 {
				if err := c.Ready(ctx); err != nil {
					t.Fatal(err)
				}
			}
			first, second := <-got, <-got
			if first.major != tt.wantMajor || second.major != tt.wantMajor {
				t.Fatalf("requests came as HTTP/%d and HTTP/%d, want HTTP/%d", first.major, second.major, tt.wantMajor)
			}
			if first.remote != second.remote {
				t.Fatalf("requests came on %s and %s, want one connection", first.remote, second.remote)
			}
		})
	}
}
