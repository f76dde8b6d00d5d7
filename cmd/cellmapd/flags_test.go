package main

import (
	"io"
	"strings"
	"testing"
	"time"
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
		{"restore-from with bootstrap", []string{"--data-dir", "d", "--bootstrap", "--restore-from", "b.backup"}, nil, false,
			func(o *options) bool { return o.backup.restoreFrom == "b.backup" }},
		{"restore-from needs bootstrap", []string{"--data-dir", "d", "--restore-from", "b.backup"}, nil, true, nil},
		{"restore-from does not join", []string{"--data-dir", "d", "--join", "h:1", "--restore-from", "b.backup"}, nil, true, nil},
		{"periodic backups from the environment", []string{"--data-dir", "d"},
			map[string]string{"CELLMAP_BACKUP_DIR": "/b", "CELLMAP_BACKUP_INTERVAL": "15m", "CELLMAP_BACKUP_KEEP": "4"}, false,
			func(o *options) bool {
				return o.backup.dir == "/b" && o.backup.interval == 15*time.Minute && o.backup.keep == 4
			}},
		{"backup keep must be positive", []string{"--data-dir", "d", "--backup-dir", "/b", "--backup-keep", "0"}, nil, true, nil},
		{"backup interval too short", []string{"--data-dir", "d", "--backup-dir", "/b", "--backup-interval", "1ms"}, nil, true, nil},
		{"backup keep ignored without a dir", []string{"--data-dir", "d", "--backup-keep", "0"}, nil, false, nil},
		{"http2 max streams default", []string{"--dev"}, nil, false, func(o *options) bool { return o.http2MaxStreams == 1000 }},
		{"http2 max streams", []string{"--dev", "--http2-max-streams", "100"}, nil, false, func(o *options) bool { return o.http2MaxStreams == 100 }},
		{"http2 max streams must be positive", []string{"--dev", "--http2-max-streams", "0"}, nil, true, nil},
		{"http2 max streams bounded", []string{"--dev", "--http2-max-streams", "2000000"}, nil, true, nil},
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

// TestAddressFlagsAreCheckedAtStartup: an address that cannot be parsed is a startup error
// that names its flag (it used to surface later, or never: --join http://host:port was retried
// forever); --join takes host:port and http(s)://host:port.
func TestAddressFlagsAreCheckedAtStartup(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	tests := []struct {
		args    []string
		wantErr string // the flag the error names; "" for none
	}{
		{[]string{"--join", "http://127.0.0.1:8480"}, ""},
		{[]string{"--join", "https://10.0.0.1:8480/,127.0.0.1:8580"}, ""},
		{[]string{"--join", "127.0.0.1"}, "--join"},
		{[]string{"--join", "http//127.0.0.1:8480"}, "--join"},
		{[]string{"--join", "ftp://127.0.0.1:8480"}, "--join"},
		{[]string{"--join", "http://127.0.0.1:8480/internal"}, "--join"},
		{[]string{"--join", "127.0.0.1:8480,"}, "--join"},
		{[]string{"--http-addr", ":8480"}, ""},
		{[]string{"--http-addr", "127.0.0.1"}, "--http-addr"},
		{[]string{"--raft-addr", "nonsense"}, "--raft-addr"},
		{[]string{"--raft-addr", "127.0.0.1:99999"}, "--raft-addr"},
		{[]string{"--raft-advertise", ":8481"}, "--raft-advertise"},
		{[]string{"--gossip-addr", "127.0.0.1:x"}, "--gossip-addr"},
		{[]string{"--gossip-join", "127.0.0.1:8482,host"}, "--gossip-join"},
		{[]string{"--dev-conductor-addr", "localhost"}, "--dev-conductor-addr"},
		{[]string{"--dev-conductor-gossip-addr", "[::1"}, "--dev-conductor-gossip-addr"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := parseFlags(append([]string{"--data-dir", "d"}, tc.args...), io.Discard, none)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v, want an error naming %s", err, tc.wantErr)
			}
		})
	}
}

// TestPprofAddrMustBeLoopback: the pprof listener exposes memory and profiles; a non-loopback
// address is refused unless --pprof-allow-remote says so.
func TestPprofAddrMustBeLoopback(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	tests := []struct {
		args []string
		ok   bool
	}{
		{[]string{"--pprof-addr", "127.0.0.1:6060"}, true},
		{[]string{"--pprof-addr", "[::1]:6060"}, true},
		{[]string{"--pprof-addr", "localhost:6060"}, true},
		{[]string{"--pprof-addr", "0.0.0.0:6060"}, false},
		{[]string{"--pprof-addr", ":6060"}, false},
		{[]string{"--pprof-addr", "10.1.2.3:6060"}, false},
		{[]string{"--pprof-addr", "0.0.0.0:6060", "--pprof-allow-remote"}, true},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := parseFlags(append([]string{"--data-dir", "d"}, tc.args...), io.Discard, none)
			if tc.ok && err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			if !tc.ok && (err == nil || !strings.Contains(err.Error(), "--pprof-addr")) {
				t.Fatalf("got %v, want an error about --pprof-addr", err)
			}
		})
	}
}
