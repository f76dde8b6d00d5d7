package etcdbench

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cellmap/cellmap/bench"
	"github.com/cellmap/cellmap/internal/pki"
	"github.com/cellmap/cellmap/transport"
)

// writePKI writes a CA and the node certificate "e1" for 127.0.0.1 into dir.
func writePKI(t *testing.T, dir string) transport.TLSFiles {
	t.Helper()
	ca, _, err := pki.EnsureCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	id := transport.Identity{Kind: transport.KindNode, Name: "e1"}
	if _, err := pki.EnsureCert(dir, ca, pki.CertRequest{Identity: id, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}); err != nil {
		t.Fatal(err)
	}
	return pki.TLSFiles(dir, id)
}

func writeSecret(t *testing.T, dir, name, secret string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEtcdWithTLSAndAuth is the etcd side of `make bench-compare SECURE=1`: TLS on the client
// and peer URLs, `auth enable` with a user whose role may read and write only the mappings'
// prefix; the workloads run as that user, and a client without credentials is refused.
func TestEtcdWithTLSAndAuth(t *testing.T) {
	dir := t.TempDir()
	files := writePKI(t, dir)
	ep := startEtcdWith(t, &files)
	sec := &bench.Security{CACert: files.CAFile, User: "bench",
		PasswordFile: writeSecret(t, dir, "bench-password", "bench-secret")}
	auth := Auth{RootPassword: "root-secret", User: "bench", Password: "bench-secret"}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := EnableAuth(ctx, ep, sec, auth); err != nil {
		t.Fatal(err)
	}

	anon, err := NewConns([]string{ep}, 1, &bench.Security{CACert: files.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	actx, acancel := context.WithTimeout(ctx, 10*time.Second)
	defer acancel()
	if _, err := anon.Put(actx, 0, bench.NewMapping(bench.Key(1), 1, 8)); err == nil {
		t.Fatal("a client without a user wrote with auth enabled")
	}

	tg, err := NewConns([]string{ep}, 1, sec)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	for _, w := range []string{bench.WorkloadLookup, bench.WorkloadCreate, bench.WorkloadCAS} {
		cfg := bench.DefaultConfig()
		cfg.Endpoints, cfg.Workload, cfg.Keys, cfg.Concurrency, cfg.Count, cfg.Duration = []string{ep}, w, 100, 2, 50, 0
		cfg.Preload, cfg.BatchSize = true, 50
		res, err := bench.Run(ctx, cfg, tg)
		if err != nil {
			t.Fatal(err)
		}
		if res.ErrorCount() != 0 || res.Ops == 0 {
			t.Fatalf("%s: ops %d errors %v, e.g. %v", w, res.Ops, res.Errors, res.ErrorSamples)
		}
	}

	plain, _ := NewConns([]string{ep}, 1, nil)
	defer plain.Close()
	pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
	defer pcancel()
	if _, err := plain.Lookup(pctx, 0, bench.Key(1)); err == nil || errors.Is(err, bench.ErrNotFound) {
		t.Fatalf("a plaintext client read from the TLS port: %v", err)
	}
}
