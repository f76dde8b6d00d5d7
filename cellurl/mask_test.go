package cellurl

import "testing"

func TestMask(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"single host", "rabbit://u:p@h:5672/", "rabbit://u:****@h:5672/"},
		{"database URL", "mysql+pymysql://service1:foo@myapidbhost/nova_cell0",
			"mysql+pymysql://service1:****@myapidbhost/nova_cell0"},
		{"multi-host each masked", "rabbit://u1:p1@h1,u2:p2@h2/", "rabbit://u1:****@h1,u2:****@h2/"},
		{"multi-host with ports", "rabbit://alice:n0ts3kret@otherhost:456,bob:s3kret@localhost:123/nova",
			"rabbit://alice:****@otherhost:456,bob:****@localhost:123/nova"},
		{"multi-host mixed credentials", "rabbit://u1:p1@h1:1,h2:2,u3@h3,u4:p4@[::1]:4/",
			"rabbit://u1:****@h1:1,h2:2,u3@h3,u4:****@[::1]:4/"},
		{"no password", "rabbit://u@h:5672/", "rabbit://u@h:5672/"},
		{"no credentials", "rabbit://h:5672/", "rabbit://h:5672/"},
		{"no credentials ipv6", "rabbit://[::1]:5672/", "rabbit://[::1]:5672/"},
		{"user with ipv6 host", "rabbit://u@[::1]:5672/", "rabbit://u@[::1]:5672/"},
		{"empty password", "rabbit://u:@h/", "rabbit://u:****@h/"},
		{"password containing @", "rabbit://u:p@ss@h:5672/", "rabbit://u:****@h:5672/"},
		{"password containing :", "rabbit://u:p:a:ss@h:5672/", "rabbit://u:****@h:5672/"},
		{"password containing @ and :", "rabbit://bob:p@ss:w@rd@h/nova", "rabbit://bob:****@h/nova"},
		{"query and fragment preserved", "rabbit://u:p@h:5672/nova?ssl=1&x=a:b@c#frag:x@y",
			"rabbit://u:****@h:5672/nova?ssl=1&x=a:b@c#frag:x@y"},
		{"netloc ends at query", "rabbit://u:p@h?x=u:p@h", "rabbit://u:****@h?x=u:p@h"},
		{"netloc ends at fragment", "rabbit://u:p@h#u:p@h", "rabbit://u:****@h#u:p@h"},
		{"scheme case preserved", "RABBIT://u:p@h/", "RABBIT://u:****@h/"},
		{"scheme-relative URL", "//u:p@h/", "//u:****@h/"},
		{"unbalanced brackets still masked", "rabbit://u:p@[::1/", "rabbit://u:****@[::1/"},
		{"cell0 transport", "none:///", "none:///"},
		{"not a URL", "hello world", "hello world"},
		{"no authority", "mailto:u:p@h", "mailto:u:p@h"},
		{"empty string", "", ""},
		{"template left as is", "rabbit://{username}:{password}@h/", "rabbit://{username}:****@h/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Mask(tc.in); got != tc.want {
				t.Errorf("Mask(%q): got %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
