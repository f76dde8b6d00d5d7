package main

import (
	"testing"
)

func TestCheckTransportURL(t *testing.T) {
	tests := []struct {
		raw, base string
		wantErr   string // "" for valid
	}{
		{"rabbit://u:p@h:5672/", "", ""},
		{"rabbit://u:p@h1:5672,u:p@h2:5673/vhost", "", ""},
		{"rabbit://u:p@[::1]:5672/", "", ""},
		{"rabbit://u:p@[::1]/", "", ""},
		{"none:///", "", ""},
		{"fake:", "", ""},
		{"rabbit://u:p@h:/", "", ""},
		{"rabbit://u:p@h:{port}/", "", ""}, // a template port is left to whoever expands it
		{"rabbit://{username}:{password}@h:{port}/", "rabbit://bob:pw@b:5671/", ""},
		{"", "rabbit://bob:pw@b:5671/", `No scheme specified in ""`},
		{"mq-host/vhost", "", `No scheme specified in "mq-host/vhost"`},
		{"1abc://h/", "", `No scheme specified in "1abc://h/"`},
		{"ra bbit://h/", "", `No scheme specified in "ra bbit://h/"`},
		{"rabbit://u:p@h:amqp/", "", "invalid literal for int() with base 10: 'amqp'"},
		{"rabbit://u:p@h1:5672,u:p@h2:x/", "", "invalid literal for int() with base 10: 'x'"},
		{"rabbit://u:p@[::1]:x/", "", "invalid literal for int() with base 10: 'x'"},
		{"rabbit://u:p@[::1:5672/", "", "Invalid IPv6 URL"},
		{"rabbit://{username}@h:{port}/", "rabbit://bob@b:x/", ""}, // the base is unusable: the raw template stays
		{"rabbit://u@h:{port}/", "rabbit://bob@b/", "invalid literal for int() with base 10: 'None'"},
	}
	for _, tc := range tests {
		err := checkTransportURL(tc.raw, tc.base)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("checkTransportURL(%q, %q): got %v, want nil", tc.raw, tc.base, err)
		case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
			t.Errorf("checkTransportURL(%q, %q): got %v, want %q", tc.raw, tc.base, err, tc.wantErr)
		}
	}
}

func TestCell0Connection(t *testing.T) {
	tests := []struct {
		base, want string
	}{
		{"mysql+pymysql://u:p@h/nova?x=1", "mysql+pymysql://u:p@h/nova_cell0?x=1"},
		{"mysql+pymysql://u:p@h/nova", "mysql+pymysql://u:p@h/nova_cell0"},
		{"mysql+pymysql://u:p@h:3306/nova?charset=utf8&x=1", "mysql+pymysql://u:p@h:3306/nova_cell0?charset=utf8&x=1"},
		{"mysql://u:p/w?d@h/nova", "mysql://u:p/w?d@h/nova_cell0"}, // a password may hold '/' and '?'
		{"postgresql://h/nova", "postgresql://h/nova_cell0"},
		{"mysql://u:p@[::1]:3306/nova", "mysql://u:p@[::1]:3306/nova_cell0"},
		{"sqlite:///nova.db", "sqlite:///nova.db_cell0"},
		{"sqlite:////var/lib/nova/nova.sqlite", "sqlite:////var/lib/nova/nova.sqlite_cell0"},
		{"sqlite:///a@b.db", "sqlite:///a@b.db_cell0"},
	}
	for _, tc := range tests {
		got, err := cell0Connection(tc.base)
		if err != nil || got != tc.want {
			t.Errorf("cell0Connection(%q): got %q, %v; want %q", tc.base, got, err, tc.want)
		}
	}
	for _, bad := range []string{"mysql://h", "mysql://u:p@h?x=1", "mysql://h/", "nova", "://h/db"} {
		if got, err := cell0Connection(bad); err == nil {
			t.Errorf("cell0Connection(%q): got %q, want an error", bad, got)
		}
	}
}

func TestUUIDIn(t *testing.T) {
	msg := "the specified transport_url and/or database_connection combination already exists for another cell with uuid " +
		"6f0c1b9e-0000-4000-8000-00000000000a: transport_url and/or database_connection already used by another cell"
	if got := uuidIn(msg); got != "6f0c1b9e-0000-4000-8000-00000000000a" {
		t.Errorf("uuidIn: got %q", got)
	}
	if got := uuidIn("no uuid here"); got != "<unknown>" {
		t.Errorf("uuidIn without a uuid: got %q", got)
	}
}
