package client

import (
	"crypto/tls"
	"testing"
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
