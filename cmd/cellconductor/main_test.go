package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/gossip"
	"github.com/cellmap/cellmap/gossip/gossiptest"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/hashicorp/go-hclog"
)

const cell = "11111111-2222-4333-8444-555555555555"

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr bool
		check   func(*options) bool
	}{
		{"defaults", nil, nil, false, func(o *options) bool {
			return o.httpAddr == "127.0.0.1:8490" && o.gossipAddr == "127.0.0.1:8492" && o.gossipProfile == "lan" &&
				o.log.Level == "info" && o.log.Format == "text" && o.requestTimeout == 10*time.Second && o.name == ""
		}},
		{"flags", []string{"--cell-uuid", cell, "--data-dir", "/d", "--http-addr", "10.0.0.5:1", "--gossip-addr", "10.0.0.5:2",
			"--gossip-advertise", "1.2.3.4:2", "--join", "10.0.0.1:8482", "--hosts", "a:1:512:0", "--gossip-profile", "test",
			"--name", "c1", "--log-level", "debug"}, nil, false, func(o *options) bool {
			return o.cellUUID == cell && o.dataDir == "/d" && o.httpAddr == "10.0.0.5:1" && o.gossipAddr == "10.0.0.5:2" &&
				o.gossipAdvertise == "1.2.3.4:2" && o.join == "10.0.0.1:8482" && o.hosts == "a:1:512:0" &&
				o.gossipProfile == "test" && o.name == "c1" && o.log.Level == "debug"
		}},
		{"env fills unset flags", []string{"--data-dir", "/flag"}, map[string]string{
			"CELLCONDUCTOR_CELL_UUID": cell, "CELLCONDUCTOR_DATA_DIR": "/env", "CELLCONDUCTOR_JOIN": "h:1,h:2",
			"CELLCONDUCTOR_HOSTS": "a:1:512:0", "CELLCONDUCTOR_GOSSIP_PROFILE": "local", "CELLCONDUCTOR_REQUEST_TIMEOUT": "3s",
		}, false, func(o *options) bool {
			return o.cellUUID == cell && o.dataDir == "/flag" && o.join == "h:1,h:2" && o.hosts == "a:1:512:0" &&
				o.gossipProfile == "local" && o.requestTimeout == 3*time.Second
		}},
		{"unknown flag", []string{"--cells", "x"}, nil, true, nil},
		{"stray argument", []string{"extra"}, nil, true, nil},
		{"bad env value", nil, map[string]string{"CELLCONDUCTOR_REQUEST_TIMEOUT": "soon"}, true, nil},
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

func TestConfig(t *testing.T) {
	base := []string{"--cell-uuid", cell, "--data-dir", "/d", "--join", "127.0.0.1:8482, 127.0.0.1:8483"}
	o, err := parseFlags(append(base, "--hosts", "a:1:512:0,b:2:1024:10"), io.Discard, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := o.config(hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Hosts) != 2 || cfg.Hosts[1].Name != "b" || cfg.Hosts[1].DiskGB != 10 || len(cfg.Join) != 2 || cfg.Join[1] != "127.0.0.1:8483" || cfg.Name == "" {
		t.Fatalf("got %+v, want two hosts, two join addresses and the host name as name", cfg)
	}
	for _, bad := range [][]string{
		{"--hosts", "a:1:512"}, {"--hosts", "a:one:512:0"}, {"--hosts", "a:1:512:0,a:1:512:0"},
		{"--cell-uuid", "cell1"}, {"--data-dir", ""}, {"--join", ""}, {"--gossip-profile", "wan"}, {"--http-addr", "nope"},
	} {
		o, err := parseFlags(append(append([]string{}, base...), bad...), io.Discard, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.config(nil); err == nil {
			t.Fatalf("%v: got nil error, want one", bad)
		}
	}
}

func TestRunExitCodes(t *testing.T) {
	ok := []string{"--cell-uuid", cell, "--data-dir", "/d", "--join", "127.0.0.1:1"}
	tests := []struct {
		name string
		args []string
		want int
		says string
	}{
		{"help", []string{"--help"}, 0, "CELLCONDUCTOR_CELL_UUID"},
		{"unknown flag", []string{"--nope"}, 2, "nope"},
		{"bad hosts", append(ok, "--hosts", "a:1:512"), 2, "--hosts"},
		{"bad host capacity", append(ok, "--hosts", "a:0:512:1"), 2, "--hosts"},
		{"bad cell uuid", []string{"--cell-uuid", "x", "--data-dir", "/d", "--join", "127.0.0.1:1"}, 2, "uuid"},
		{"no join", []string{"--cell-uuid", cell, "--data-dir", "/d"}, 2, "--join"},
		{"bad log level", append(ok, "--log-level", "loud"), 2, "--log-level"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := run(tc.args, &stderr, env(nil)); got != tc.want {
				t.Fatalf("got exit %d (%s), want %d", got, stderr.String(), tc.want)
			}
			if !strings.Contains(stderr.String(), tc.says) {
				t.Fatalf("got stderr %q, want it to mention %q", stderr.String(), tc.says)
			}
		})
	}
}

// TestServe runs the command's serve loop against a gossip seed: the conductor joins with its
// bound HTTP address, answers there, and leaves the pool when its context ends.
func TestServe(t *testing.T) {
	rec := gossiptest.NewRecorder()
	seed, err := gossip.New(&gossip.Config{Name: "server/n1", BindAddr: testkit.FreeUDPTCPAddr(t), Profile: "test", Handler: rec,
		Meta: api.GossipMeta{Role: api.RoleServer, NodeID: "n1", HTTPAddr: "127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Shutdown()
	o, err := parseFlags([]string{"--cell-uuid", cell, "--data-dir", t.TempDir(), "--http-addr", "127.0.0.1:0",
		"--gossip-addr", testkit.FreeUDPTCPAddr(t), "--join", seed.LocalAddr(), "--gossip-profile", "test", "--name", "c1",
		"--hosts", "cmp1:8:8192:100"}, io.Discard, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := o.config(hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg) }()

	name := "conductor/" + cell + "/c1"
	testkit.WaitFor(t, "the conductor joining the pool", 15*time.Second, func() bool { _, ok := rec.Seen(name, true); return ok })
	meta, _ := rec.Seen(name, true)
	if meta.Role != api.RoleConductor || meta.CellUUID != cell || strings.HasSuffix(meta.HTTPAddr, ":0") {
		t.Fatalf("got meta %+v, want a conductor of %s with its bound HTTP address", meta, cell)
	}
	resp, err := http.Get("http://" + meta.HTTPAddr + "/v1/compute-hosts")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET compute-hosts: got %d, want 200", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: got %v, want nil after the context ends", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return after its context ended")
	}
	testkit.WaitFor(t, "the conductor leaving the pool", 15*time.Second, func() bool { _, ok := rec.Seen(name, false); return ok })
}
