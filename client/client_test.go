package client

import "testing"

// TestAt: a client of another node keeps the scheme and the token of the original.
func TestAt(t *testing.T) {
	t.Parallel()
	tests := []struct{ base, addr, want string }{
		{"127.0.0.1:8480", "10.0.0.2:8480", "http://10.0.0.2:8480"},
		{"http://a:1/", "b:2", "http://b:2"},
		{"https://a:1", "b:2", "https://b:2"},
	}
	for _, tc := range tests {
		c := New(tc.base, nil).WithToken("secret")
		got := c.At(tc.addr)
		if got.Addr() != tc.want || got.token != "secret" || c.Addr() == got.Addr() {
			t.Fatalf("New(%q).At(%q): got %q (token %q), want %q", tc.base, tc.addr, got.Addr(), got.token, tc.want)
		}
	}
}
