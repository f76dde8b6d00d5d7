package cellurl

import (
	"strings"
	"testing"
)

func TestURLParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    pyURL
		wantErr bool
	}{
		{"full", "rabbit://u:p@h:1/nova?q=1#f", pyURL{"rabbit", "u:p@h:1", "/nova", "q=1", "f"}, false},
		{"no scheme", "//h/p", pyURL{"", "h", "/p", "", ""}, false},
		{"scheme lower-cased", "HTTP://h", pyURL{"http", "h", "", "", ""}, false},
		{"scheme must start with a letter", "1x://h", pyURL{"", "", "1x://h", "", ""}, false},
		{"fragment before query", "x://h/p#f?q", pyURL{"x", "h", "/p", "", "f?q"}, false},
		{"query and fragment split once", "x://h/p?a?b#c#d", pyURL{"x", "h", "/p", "a?b", "c#d"}, false},
		{"netloc ends at ?", "x://u:p@h?q", pyURL{"x", "u:p@h", "", "q", ""}, false},
		{"params dropped for http", "http://h/a;b/c;d", pyURL{"http", "h", "/a;b/c", "", ""}, false},
		{"params kept for other schemes", "x://h/a;b", pyURL{"x", "h", "/a;b", "", ""}, false},
		{"cell0", "none:///", pyURL{"none", "", "/", "", ""}, false},
		{"unsafe bytes removed", "x://h\n/p\t", pyURL{"x", "h", "/p", "", ""}, false},
		{"ipvfuture", "x://[v1.x]/", pyURL{"x", "[v1.x]", "/", "", ""}, false},
		{"unbalanced open", "x://[::1/", pyURL{}, true},
		{"unbalanced close", "x://::1]/", pyURL{}, true},
		{"bad ipv6", "x://[::g]/", pyURL{}, true},
		{"bad ipvfuture", "x://[v.x]/", pyURL{}, true},
		{"empty zone", "x://[fe80::1%]/", pyURL{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := urlParse(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("urlParse(%q): got error %v, want error %v", tc.in, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("urlParse(%q): got %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseHostPort(t *testing.T) {
	tests := []struct {
		name, in, wantHost, wantPort string
		wantErr                      bool
	}{
		{"empty", "", "None", "None", false},
		{"host", "h", "h", "None", false},
		{"host and port", "h:5672", "h", "5672", false},
		{"bracketed", "[::1]:5672", "::1", "5672", false},
		{"bracketed without port", "[::1]", "::1", "None", false},
		{"bracketed junk before colon", "[::1]x:7", "::1", "7", false},
		{"bracketed extra colons", "[::1]:7:8", "::1", "7", false},
		{"bare ipv6", "fe80::1", "fe80::1", "None", false},
		{"port with spaces and sign", "h: +07 ", "h", "7", false},
		{"port with underscore", "h:1_0", "h", "10", false},
		{"negative port", "h:-5", "h", "-5", false},
		{"negative zero", "h:-0", "h", "0", false},
		{"unicode digits", "h:\u0663\uff11", "h", "31", false},
		{"empty port", "h:", "", "", true},
		{"bad port", "h:abc", "", "", true},
		{"double underscore", "h:1__0", "", "", true},
		{"trailing underscore", "h:1_", "", "", true},
		{"unclosed bracket", "[::1", "", "", true},
		{"two closing brackets", "[::1]]:5", "", "", true},
		{"bracketed empty port", "[::1]:", "", "", true},
		{"too many digits", "h:" + strings.Repeat("1", maxIntDigits+1), "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			host, port, err := parseHostPort(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseHostPort(%q): got error %v, want error %v", tc.in, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if host.String() != tc.wantHost || port.String() != tc.wantPort {
				t.Errorf("parseHostPort(%q): got %q, %q, want %q, %q",
					tc.in, host.String(), port.String(), tc.wantHost, tc.wantPort)
			}
		})
	}
}

func TestPyLower(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"ascii", "MyHost", "myhost"},
		{"dotted capital I", "\u0130X", "i\u0307x"},
		{"invalid utf-8 kept", "A\xffB", "a\xffb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pyLower(tc.in); got != tc.want {
				t.Errorf("pyLower(%q): got %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
