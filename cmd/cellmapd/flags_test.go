package main

import (
	"io"
	"testing"
)

func TestParseFlags(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr bool
		check   func(*options) bool
	}{
		{"dev defaults", []string{"--dev"}, nil, false, func(o *options) bool {
			return o.nodeID == "dev" && o.dataDir == "data" && o.bootstrap && o.httpAddr == "127.0.0.1:8480"
		}},
		{"env fills unset flags", []string{"--data-dir", "/d"}, map[string]string{"CELLMAP_NODE_ID": "n7", "CELLMAP_DATA_DIR": "/ignored", "CELLMAP_JOIN": "h:1,h:2"},
			false, func(o *options) bool { return o.nodeID == "n7" && o.dataDir == "/d" && o.join == "h:1,h:2" }},
		{"data dir required", []string{"--node-id", "n1"}, nil, true, nil},
		{"bootstrap and join", []string{"--data-dir", "d", "--bootstrap", "--join", "h:1"}, nil, true, nil},
		{"dev joining does not bootstrap", []string{"--dev", "--join", "h:1"}, nil, false, func(o *options) bool { return !o.bootstrap }},
		{"stray argument", []string{"--dev", "extra"}, nil, true, nil},
		{"bad env value", []string{"--dev"}, map[string]string{"CELLMAP_BOOTSTRAP": "perhaps"}, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(tc.args, io.Discard, env(tc.env))
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error=%v", err, tc.wantErr)
			}
			if tc.check != nil && !tc.check(o) {
				t.Fatalf("got %+v", o)
			}
		})
	}
}

func TestServerConfigRejectsUnknownRaftProfile(t *testing.T) {
	o, err := parseFlags([]string{"--dev", "--raft-profile", "wan"}, io.Discard, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.serverConfig(nil); err == nil {
		t.Fatalf("got nil error for raft profile wan, want one")
	}
}
