package node

import (
	"crypto/tls"
	"testing"

	"github.com/cellmap/cellmap/transport"
)

// fakeTLS stands for a configured certificate.
type fakeTLS struct{}

func (fakeTLS) ServerConfig(tls.ClientAuthType, transport.PeerCheck) *tls.Config {
	return &tls.Config{}
}
func (fakeTLS) ClientConfig(string, transport.PeerCheck) *tls.Config { return &tls.Config{} }

// TestJoinSchemes: join addresses may be host:port or a URL whose scheme matches the TLS
// setting; a bare address takes the scheme of the setting.
func TestJoinSchemes(t *testing.T) {
	tests := []struct {
		join    string
		tls     bool
		ok      bool
		wantURL string
	}{
		{"10.0.0.1:8480", false, true, "http://10.0.0.1:8480"},
		{"10.0.0.1:8480", true, true, "https://10.0.0.1:8480"},
		{"http://10.0.0.1:8480/", false, true, "http://10.0.0.1:8480"},
		{"https://10.0.0.1:8480", true, true, "https://10.0.0.1:8480"},
		{"https://10.0.0.1:8480", false, false, ""},
		{"http://10.0.0.1:8480", true, false, ""},
		{"ftp://10.0.0.1:8480", false, false, ""},
	}
	for _, tt := range tests {
		cfg := DefaultConfig()
		cfg.NodeID, cfg.DataDir, cfg.HTTPAddr, cfg.RaftAddr, cfg.Join = "n1", "d", "127.0.0.1:8480", "127.0.0.1:8481", []string{tt.join}
		if tt.tls {
			cfg.TLS = fakeTLS{}
		}
		err := cfg.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("join %q, TLS %v: got %v, want ok %v", tt.join, tt.tls, err, tt.ok)
			continue
		}
		if tt.ok && cfg.peerURL(tt.join) != tt.wantURL {
			t.Errorf("join %q, TLS %v: URL %q, want %q", tt.join, tt.tls, cfg.peerURL(tt.join), tt.wantURL)
		}
	}
}
