package tlsconf

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:8480", true},
		{"127.1.2.3:1", true},
		{"[::1]:8480", true},
		{"localhost:8480", true},
		{"LocalHost:8480", true},
		{"0.0.0.0:8480", false},
		{"[::]:8480", false},
		{":8480", false},
		{"10.0.0.1:8480", false},
		{"cellmap.example:8480", false},
		{"127.0.0.1", false}, // no port: not a listen address
	}
	for _, tt := range tests {
		if got := IsLoopback(tt.addr); got != tt.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	ls := func(http string, protected bool) []Listener {
		return []Listener{
			{Name: "HTTP API", Addr: http, Protected: protected, Unprotected: "plain HTTP"},
			{Name: "gossip", Addr: "127.0.0.1:8482", Protected: protected, Unprotected: "unencrypted gossip"},
		}
	}
	tests := []struct {
		name     string
		ls       []Listener
		insecure bool
		wantErr  string // "" none
		wantWarn string // "" no log
	}{
		{"loopback", ls("127.0.0.1:8480", false), false, "", ""},
		{"beyond loopback without TLS", ls("0.0.0.0:8480", false), false, "HTTP API on 0.0.0.0:8480 (plain HTTP)", ""},
		{"beyond loopback with TLS", ls("0.0.0.0:8480", true), false, "", ""},
		{"insecure beyond loopback", ls("0.0.0.0:8480", false), true, "",
			"open=\"HTTP API on 0.0.0.0:8480 (plain HTTP); gossip on 127.0.0.1:8482 (unencrypted gossip)\""},
		{"insecure on loopback", ls("127.0.0.1:8480", false), true, "", "HTTP API on 127.0.0.1:8480 (plain HTTP)"},
		{"insecure with TLS", ls("0.0.0.0:8480", true), true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			err := Check(tt.ls, tt.insecure, hclog.New(&hclog.LoggerOptions{Output: &logs}))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (!errors.Is(err, ErrExposed) || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
			if tt.wantWarn == "" && logs.Len() != 0 || tt.wantWarn != "" && (!strings.Contains(logs.String(), "[WARN]") || !strings.Contains(logs.String(), tt.wantWarn)) {
				t.Fatalf("logged %q, want %q", logs.String(), tt.wantWarn)
			}
		})
	}
}
