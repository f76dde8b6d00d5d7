package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/node"
)

// TestWatch: watch --since 0 prints every change of the history one per line (revision, op,
// kind, key, fields) and exits 0 when --duration passes; --format json prints the stream's
// lines; --kinds and --project filter. Role: a reader token may watch; no token is refused
// (255, the 401's message), and a token scoped to project p1 asking for p2 is refused (403).
func TestWatch(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	c := mustCell(t, n, "cell1", "rabbit://mq-1/", "mysql://db/1")
	const (
		inst1 = "cccccccc-0000-4000-8000-000000000001"
		inst2 = "cccccccc-0000-4000-8000-000000000002"
	)
	mustMapping(t, n, inst1, c.UUID, false)
	mustHost(t, n, "compute1", c.UUID)
	if _, err := n.Client.DeleteInstanceMapping(ctxT(t), inst1, 0); err != nil {
		t.Fatal(err)
	}
	reader, err := n.Client.CreateToken(ctxT(t), api.TokenCreate{Description: "watch test", Role: acl.RoleReader.String()})
	if err != nil {
		t.Fatal(err)
	}
	scoped, err := n.Client.CreateToken(ctxT(t), api.TokenCreate{Description: "watch test p1", Role: acl.RoleReader.String(), ProjectID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	as := func(token string, args ...string) result {
		return runCLI(t, map[string]string{"CELLMAP_TOKEN": token}, append([]string{"--addr", n.Addr}, args...)...)
	}

	r := as(reader.Secret, "watch", "--since", "0", "--duration", "500ms")
	r.want(t, exitOK, "cells", "cell1", "put    instance_mappings "+inst1+"  project=p1 cell="+c.UUID,
		"host_mappings     compute1  cell="+c.UUID, "delete instance_mappings "+inst1)
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 4 {
		t.Fatalf("want 4 event lines, got:\n%s", r.stdout)
	}

	r = as(reader.Secret, "--format", "json", "watch", "--since", "0", "--kinds", "instance_mappings", "--duration", "500ms")
	r.want(t, exitOK)
	var ops []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var ev api.WatchEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if ev.Type == api.WatchTypeEvent {
			ops = append(ops, ev.Op+" "+ev.Key)
		}
	}
	if got, want := strings.Join(ops, ","), "put "+inst1+",delete "+inst1; got != want {
		t.Fatalf("json events: %s, want %s", got, want)
	}

	if r = as(reader.Secret, "watch", "--since", "0", "--project", "p9", "--duration", "300ms"); r.code != exitOK || r.stdout != "" {
		t.Fatalf("project p9 has no changes: exit %d, stdout %q", r.code, r.stdout)
	}
	r = as("", "watch", "--since", "0")
	if r.code != exitUnexpected || !strings.Contains(r.stderr, "401") {
		t.Fatalf("no token: exit %d, stderr %q; want 255 and the 401", r.code, r.stderr)
	}
	r = as(scoped.Secret, "watch", "--project", "p2")
	if r.code != exitUnexpected || !strings.Contains(r.stderr, "403") || !strings.Contains(r.stderr, "only project p1") {
		t.Fatalf("p1 token watching p2: exit %d, stderr %q; want 255 and the 403", r.code, r.stderr)
	}
	if r = as(reader.Secret, "watch", "--since", "x"); r.code != exitUsage {
		t.Fatalf("--since x: exit %d, want %d", r.code, exitUsage)
	}
}

// TestWatchCompacted: a --since older than the history the node keeps exits 1 with the
// oldest revision it serves. Role: reader (the admin token of the test node here; the
// reader case is TestWatch).
func TestWatchCompacted(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, &testcluster.Options{NodeConfig: func(c *node.Config) {
		c.EventRetention = fsm.Retention{MaxEvents: 2, MaxAge: time.Hour}
	}})
	c := mustCell(t, n, "cell1", "rabbit://mq-1/", "mysql://db/1")
	for _, h := range []string{"h1", "h2", "h3", "h4"} {
		mustHost(t, n, h, c.UUID)
	}
	r := ctl(t, n, "watch", "--since", "1")
	if r.code != exitWatchCompacted || !strings.Contains(r.stderr, "compacted: this node serves --since") {
		t.Fatalf("exit %d, stderr %q; want %d and the compacted message", r.code, r.stderr, exitWatchCompacted)
	}
}
