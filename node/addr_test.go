package node

import "testing"

func TestJoinURL(t *testing.T) {
	tests := []struct {
		in, want string // want "" for an error
	}{
		{"127.0.0.1:8480", "http://127.0.0.1:8480"},
		{"node1.example:8480", "http://node1.example:8480"},
		{"[::1]:8480", "http://[::1]:8480"},
		{"http://127.0.0.1:8480", "http://127.0.0.1:8480"},
		{"http://127.0.0.1:8480/", "http://127.0.0.1:8480"},
		{"https://10.0.0.1:8480", "https://10.0.0.1:8480"},
		{"http//127.0.0.1:8480", ""},
		{"127.0.0.1", ""},
		{":8480", ""},
		{"http://127.0.0.1", ""},
		{"ftp://127.0.0.1:8480", ""},
		{"http://127.0.0.1:8480/internal/join", ""},
		{"http://u:p@127.0.0.1:8480", ""},
		{"http://127.0.0.1:8480?x=1", ""},
		{"127.0.0.1:99999", ""},
		{"", ""},
	}
	for _, tc := range tests {
		got, err := JoinURL(tc.in)
		if tc.want == "" && err == nil {
			t.Errorf("JoinURL(%q) = %q, want an error", tc.in, got)
		}
		if tc.want != "" && (err != nil || got != tc.want) {
			t.Errorf("JoinURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCheckHostPort(t *testing.T) {
	tests := []struct {
		in           string
		hostRequired bool
		ok           bool
	}{
		{"127.0.0.1:8481", true, true},
		{":8481", false, true},
		{":8481", true, false},
		{"127.0.0.1:0", false, true},
		{"127.0.0.1:0", true, false},
		{"localhost:1", true, true},
		{"[::1]:1", true, true},
		{"127.0.0.1", false, false},
		{"127.0.0.1:x", false, false},
		{"a/b:1", false, false},
	}
	for _, tc := range tests {
		if err := CheckHostPort(tc.in, tc.hostRequired); (err == nil) != tc.ok {
			t.Errorf("CheckHostPort(%q, %v) = %v, want ok=%v", tc.in, tc.hostRequired, err, tc.ok)
		}
	}
}
