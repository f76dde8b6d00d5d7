package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBaseURLsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, content string
		mode          os.FileMode
		want          baseURLs
		err           string
	}{
		{"json", `{"transport_url":"rabbit://u:p@mq/","database_connection":"mysql://u:p@db/nova"}`, 0o600,
			baseURLs{"rabbit://u:p@mq/", "mysql://u:p@db/nova"}, ""},
		{"two lines", "rabbit://u:p@mq/\nmysql://u:p@db/nova\n", 0o400, baseURLs{"rabbit://u:p@mq/", "mysql://u:p@db/nova"}, ""},
		{"world readable", "rabbit://u:p@mq/\nmysql://u:p@db/nova\n", 0o644, baseURLs{}, "readable by others"},
		{"one line", "rabbit://u:p@mq/\n", 0o600, baseURLs{}, "has 1 lines"},
		{"unknown field", `{"transport":"x"}`, 0o600, baseURLs{}, "not a JSON object"},
		{"empty object", `{}`, 0o600, baseURLs{}, "names no URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readBaseURLs(write(tc.name, tc.content, tc.mode))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %+v %v, want an error with %q", got, err, tc.err)
				}
				if strings.Contains(err.Error(), "u:p@") {
					t.Fatalf("the error shows a password: %v", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v %v, want %+v", got, err, tc.want)
			}
		})
	}
	p := write("ok", "rabbit://u:p@mq/\nmysql://u:p@db/nova\n", 0o600)
	o, err := parseFlags([]string{"--data-dir", dir, "--base-urls-file", p}, os.Stderr, func(string) (string, bool) { return "", false })
	if err != nil || o.baseTransportURL != "rabbit://u:p@mq/" || o.baseDatabaseConnection != "mysql://u:p@db/nova" {
		t.Fatalf("flags: %+v %v", o, err)
	}
	if _, err := parseFlags([]string{"--data-dir", dir, "--base-urls-file", p, "--base-transport-url", "x://y/"}, os.Stderr,
		func(string) (string, bool) { return "", false }); err == nil {
		t.Fatal("--base-urls-file with --base-transport-url accepted")
	}
}
