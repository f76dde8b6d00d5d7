package cellurl

import (
	"errors"
	"strings"
	"testing"
)

const (
	// docBase is the example base URL of Nova's cells documentation.
	docBase = "rabbit://bob:s3kret@myhost:123/nova?sync=true#extra"
	// novaMultiBase is the multi-host base of Nova's unit test.
	novaMultiBase = "rabbit://alice:n0ts3kret@otherhost:456,bob:s3kret@localhost:123/nova?munchies=doritos#baz"
)

// expandTest is one Expand/ExpandErr case. wantErr is the sentinel the
// error must wrap, or nil for success.
type expandTest struct {
	name     string
	template string
	base     string
	want     string
	wantErr  error
}

var expandTests = []expandTest{
	// Single-host variables, from the documentation's example base.
	{"scheme", "{scheme}", docBase, "rabbit", nil},
	{"username", "{username}", docBase, "bob", nil},
	{"password", "{password}", docBase, "s3kret", nil},
	{"hostname", "{hostname}", docBase, "myhost", nil},
	{"port", "{port}", docBase, "123", nil},
	{"path without leading slash", "{path}", docBase, "nova", nil},
	{"query without question mark", "{query}", docBase, "sync=true", nil},
	{"fragment without hash", "{fragment}", docBase, "extra", nil},
	{"doc example", "rabbit://{username}:{password}@otherhost/{path}", docBase,
		"rabbit://bob:s3kret@otherhost/nova", nil},
	{"seed 003 example", "mysql+pymysql://{username}:{password}@mycell1dbhost/nova",
		"mysql+pymysql://service1:foo@myapidbhost/nova_cell0",
		"mysql+pymysql://service1:foo@mycell1dbhost/nova", nil},
	{"every variable", "{scheme}|{username}|{password}|{hostname}|{port}|{path}|{query}|{fragment}",
		docBase, "rabbit|bob|s3kret|myhost|123|nova|sync=true|extra", nil},

	// Single-host parsing details (Python urlparse).
	{"scheme and hostname lower-cased", "{scheme}://{hostname}", "RabBit://u:p@MyHost.Example:5672/",
		"rabbit://myhost.example", nil},
	{"username keeps its case", "{username}", "rabbit://Bob:p@h/", "Bob", nil},
	{"ipv6 hostname without brackets", "{hostname}|{port}", "rabbit://u:p@[::1]:5672/", "::1|5672", nil},
	{"ipv6 zone keeps its case", "{hostname}", "rabbit://u:p@[FE80::1%Eth0]:5672/", "fe80::1%Eth0", nil},
	{"all leading slashes stripped", "{path}", "mysql://u:p@h//nova/x", "nova/x", nil},
	{"no port renders None", "{hostname}:{port}", "mysql+pymysql://u:p@h/nova", "h:None", nil},
	{"empty port renders None", "{port}", "rabbit://u:p@h:/", "None", nil},
	{"port leading zeros dropped", "{port}", "rabbit://h:0080/", "80", nil},
	{"port 0", "{port}", "rabbit://h:0/", "0", nil},
	{"port 65535", "{port}", "rabbit://h:65535/", "65535", nil},
	{"no credentials render None", "{username}:{password}", "rabbit://h:5672/", "None:None", nil},
	{"username without password", "{username}:{password}", "rabbit://bob@h/", "bob:None", nil},
	{"empty username and password", "[{username}][{password}]", "rabbit://:@h/", "[][]", nil},
	{"password containing @ and :", "{username}|{password}|{hostname}",
		"rabbit://bob:p@ss:w@rd@h:5672/", "bob|p@ss:w@rd|h", nil},
	{"no netloc", "[{hostname}][{port}][{path}]", "none:///", "[None][None][]", nil},
	{"empty path query fragment", "[{path}][{query}][{fragment}]", "rabbit://h", "[][][]", nil},
	{"params split off for http", "{path}", "http://h/a;b/c;d", "a;b/c", nil},
	{"params kept for rabbit", "{path}", "rabbit://h/a;b", "a;b", nil},
	{"leading space and tab removed", "{scheme}|{hostname}", " \trab\tbit://h/", "rabbit|h", nil},

	// Nova's multi-host unit test and the indexed variables.
	{"nova multi-host vector",
		"{scheme}://not{username2}:{password1}@{hostname2}:1{port1}/{path}?{query}&flavor=coolranch#{fragment}",
		novaMultiBase, "rabbit://notbob:n0ts3kret@localhost:1456/nova?munchies=doritos&flavor=coolranch#baz", nil},
	{"indexed variables", "{username1}:{password1}@{hostname1}:{port1},{username2}:{password2}@{hostname2}:{port2}",
		novaMultiBase, "alice:n0ts3kret@otherhost:456,bob:s3kret@localhost:123", nil},
	{"unindexed variables of a multi-host base", "{username}|{password}|{hostname}|{port}", novaMultiBase,
		"alice|n0ts3kret@otherhost:456,bob:s3kret|localhost|123", nil},
	{"ipv6 pieces", "{hostname1}/{port1}/{hostname2}/{port2}",
		"rabbit://u1:p1@[::1]:5672,u2:p2@[fe80::2]:5673/", "::1/5672/fe80::2/5673", nil},
	{"ipv6 piece without port", "{hostname1}/{port1}", "rabbit://u1:p1@[::1],u2:p2@h2:5673/", "::1/None", nil},
	{"unbracketed ipv6 piece has no port", "{hostname1}/{port1}", "rabbit://u1:p1@::1,u2:p2@h2:5673/",
		"::1/None", nil},
	{"piece without user", "[{username1}][{password1}][{hostname1}][{port1}]",
		"rabbit://h1,u2:p2@h2:5673/", "[][None][h1][None]", nil},
	{"piece without password", "[{username1}][{password1}][{hostname1}][{port1}]",
		"rabbit://u1@h1:1,u2:p2@h2:2/", "[u1][None][h1][1]", nil},
	{"piece without port", "{hostname2}:{port2}", "rabbit://u1:p1@h1:1,u2:p2@h2/", "h2:None", nil},
	{"piece hostname keeps its case", "{hostname1}", "rabbit://u1:p1@H1:1,u2:p2@h2:2/", "H1", nil},
	{"piece password split at first colon", "{password1}", "rabbit://u1:p:q@h1:1,u2:p2@h2:2/", "p:q", nil},
	{"empty piece", "[{username2}][{hostname2}][{port2}]", "rabbit://u1:p1@h1,/", "[][None][None]", nil},
	{"piece port parsed like int()", "{port1}", "rabbit://u1:p1@h1:+0099,u2:p2@h2:1/", "99", nil},
	{"three hosts", "{hostname3}:{port3}", "rabbit://a:1@h1:1,b:2@h2:2,c:3@h3:3/", "h3:3", nil},

	// Failures leave the template unchanged.
	{"username3 with two hosts", "{username3}", novaMultiBase, "{username3}", ErrUnknownVariable},
	{"indexed variable with one host", "{username1}", docBase, "{username1}", ErrUnknownVariable},
	{"typo", "rabbit://{usernme}:{password}@h/", docBase, "rabbit://{usernme}:{password}@h/", ErrUnknownVariable},
	{"no partial substitution", "{username}:{typo}", docBase, "{username}:{typo}", ErrUnknownVariable},
	{"unmatched open brace", "rabbit://{username@h/", docBase, "rabbit://{username@h/", ErrMalformedTemplate},
	{"open brace at end", "rabbit://{username}@h/{", docBase, "rabbit://{username}@h/{", ErrMalformedTemplate},
	{"unmatched close brace", "rabbit://{username}}@h/", docBase, "rabbit://{username}}@h/", ErrMalformedTemplate},
	{"single close brace without open", "rabbit://u}@h/", docBase, "rabbit://u}@h/", ErrMalformedTemplate},
	{"empty field", "{}", docBase, "{}", ErrMalformedTemplate},
	{"positional field", "{0}", docBase, "{0}", ErrMalformedTemplate},
	{"format spec", "{port:d}", docBase, "{port:d}", ErrMalformedTemplate},
	{"conversion", "{username!r}", docBase, "{username!r}", ErrMalformedTemplate},
	{"attribute", "{username.upper}", docBase, "{username.upper}", ErrMalformedTemplate},
	{"empty base", "rabbit://{username}@h/", "", "rabbit://{username}@h/", ErrNoBase},
	{"bad port in base", "{hostname}", "rabbit://u:p@h:abc/", "{hostname}", ErrBadBase},
	{"port out of range in base", "{hostname}", "rabbit://u:p@h:65536/", "{hostname}", ErrBadBase},
	{"negative port in base", "{hostname}", "rabbit://u:p@h:-1/", "{hostname}", ErrBadBase},
	{"unbalanced ipv6 bracket in base", "{hostname}", "rabbit://u:p@[::1:5672/", "{hostname}", ErrBadBase},
	{"ipv4 in brackets in base", "{hostname}", "rabbit://u:p@[1.2.3.4]:5672/", "{hostname}", ErrBadBase},
	{"bad port in a piece", "{hostname2}", "rabbit://u1:p1@h1:abc,u2:p2@h2:2/", "{hostname2}", ErrBadBase},
	{"empty port in a piece", "{hostname2}", "rabbit://u1:p1@h1:,u2:p2@h2:2/", "{hostname2}", ErrBadBase},
	// urlparse takes the whole-URL port after the first ':' following the
	// last '@', so a last piece without credentials breaks the whole base.
	{"last piece without user but with ports", "{hostname1}", "rabbit://u1:p1@h1:5672,h2:5673/",
		"{hostname1}", ErrBadBase},

	// Braces and identities.
	{"escaped braces", "{{username}}:{username}", docBase, "{username}:bob", nil},
	{"escaped literal", "pa{{ss}}word", docBase, "pa{ss}word", nil},
	{"escaped close brace only", "a}}b", docBase, "a}b", nil},
	{"no braces is identity", "rabbit://u:p@h:5672/", docBase, "rabbit://u:p@h:5672/", nil},
	{"no braces with bad base is identity", "rabbit://u:p@h/", "rabbit://u:p@h:abc/", "rabbit://u:p@h/", nil},
	{"no braces with empty base is identity", "rabbit://u:p@h/", "", "rabbit://u:p@h/", nil},
	{"empty template", "", docBase, "", nil},
}

func TestExpand(t *testing.T) {
	for _, tc := range expandTests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Expand(tc.template, tc.base); got != tc.want {
				t.Errorf("Expand(%q, %q): got %q, want %q", tc.template, tc.base, got, tc.want)
			}
		})
	}
}

func TestExpandErr(t *testing.T) {
	for _, tc := range expandTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ExpandErr(tc.template, tc.base)
			if got != tc.want {
				t.Errorf("ExpandErr(%q, %q): got %q, want %q", tc.template, tc.base, got, tc.want)
			}
			switch {
			case tc.wantErr == nil && err != nil:
				t.Errorf("ExpandErr(%q, %q): got error %v, want nil", tc.template, tc.base, err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("ExpandErr(%q, %q): got error %v, want %v", tc.template, tc.base, err, tc.wantErr)
			}
			if err != nil && got != tc.template {
				t.Errorf("ExpandErr(%q, %q): error %v with changed output %q", tc.template, tc.base, err, got)
			}
		})
	}
}

func TestIsTemplate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"plain URL", "rabbit://u:p@h:5672/", false},
		{"empty", "", false},
		{"variable", "rabbit://{username}@h/", true},
		{"lone open brace", "a{b", true},
		{"close brace only", "a}b", false},
		{"escaped braces", "{{x}}", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsTemplate(tc.in); got != tc.want {
				t.Errorf("IsTemplate(%q): got %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzExpand(f *testing.F) {
	for _, tc := range expandTests {
		f.Add(tc.template, tc.base)
	}
	f.Fuzz(func(t *testing.T, template, base string) {
		got, err := ExpandErr(template, base)
		if err != nil && got != template {
			t.Fatalf("ExpandErr(%q, %q): error %v with changed output %q", template, base, err, got)
		}
		if Expand(template, base) != got {
			t.Fatalf("Expand(%q, %q) differs from ExpandErr", template, base)
		}
		if !strings.ContainsAny(template, "{}") && got != template {
			t.Fatalf("Expand(%q, %q): got %q, want the brace-free template unchanged", template, base, got)
		}
	})
}
