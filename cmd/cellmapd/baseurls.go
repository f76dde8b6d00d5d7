package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// baseURLs is the content of --base-urls-file: nova.conf's [DEFAULT]/transport_url and
// [database]/connection, which carry passwords and so stay off the command line.
type baseURLs struct {
	TransportURL       string `json:"transport_url"`
	DatabaseConnection string `json:"database_connection"`
}

// readBaseURLs reads a base-URLs file: a JSON object {"transport_url", "database_connection"},
// or two lines (the transport URL, then the database connection). The file must not be
// readable by group or others (as ssh refuses such keys).
func readBaseURLs(path string) (baseURLs, error) {
	var out baseURLs
	info, err := os.Stat(path)
	if err != nil {
		return out, fmt.Errorf("--base-urls-file: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return out, fmt.Errorf("--base-urls-file: %s is readable by others (mode %v); it holds passwords: chmod 600 it", path, info.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return out, fmt.Errorf("--base-urls-file: %w", err)
	}
	text := strings.TrimSpace(string(b))
	if strings.HasPrefix(text, "{") {
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&out); err != nil {
			return out, fmt.Errorf("--base-urls-file: %s is not a JSON object of transport_url and database_connection: %v", path, err)
		}
	} else {
		lines := strings.Split(text, "\n")
		if len(lines) != 2 {
			return out, fmt.Errorf("--base-urls-file: %s has %d lines, want 2 (the transport URL, then the database connection) or a JSON object", path, len(lines))
		}
		out.TransportURL, out.DatabaseConnection = strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1])
	}
	if out.TransportURL == "" && out.DatabaseConnection == "" {
		return out, fmt.Errorf("--base-urls-file: %s names no URL", path)
	}
	return out, nil
}
