package httpapi

import "testing"

// TestDialable: the leader header names only addresses a client can dial.
func TestDialable(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"10.0.0.1:8480": true, "node1.example:8480": true, "[2001:db8::1]:8480": true,
		"": false, ":8480": false, "0.0.0.0:8480": false, "[::]:8480": false, "no-port": false,
	} {
		if got := dialable(addr); got != want {
			t.Errorf("dialable(%q) = %v, want %v", addr, got, want)
		}
	}
}
