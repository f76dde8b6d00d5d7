package etcdbench

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/cellmap/cellmap/bench"
	"github.com/cellmap/cellmap/transport"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startEtcd runs a one-member etcd: the binary named by $ETCD_BIN (`make bench-etcd-test` sets
// it to the etcd it builds), else etcd on PATH, else the test skips.
func startEtcd(t *testing.T) string { return startEtcdWith(t, nil) }

// startEtcdWith runs a one-member etcd; with tlsDir it serves TLS on its client and peer URLs
// with the node certificate "e1" of the CA in tlsDir (see writePKI).
func startEtcdWith(t *testing.T, tls *transport.TLSFiles) string {
	t.Helper()
	bin := os.Getenv("ETCD_BIN")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("etcd"); err != nil {
			t.Skip("no etcd: set ETCD_BIN (make bench-etcd-test builds one) or install etcd-server")
		}
	}
	client, peer := freeAddr(t), freeAddr(t)
	scheme := "http://"
	var extra []string
	if tls != nil {
		scheme = "https://"
		// No --trusted-ca-file for clients: etcd would then demand client certificates, and
		// clients authenticate with a user, as cellmap's do with a token.
		extra = []string{"--cert-file", tls.CertFile, "--key-file", tls.KeyFile,
			"--peer-cert-file", tls.CertFile, "--peer-key-file", tls.KeyFile, "--peer-trusted-ca-file", tls.CAFile,
			"--peer-client-cert-auth"}
	}
	args := append([]string{"--name", "t1", "--data-dir", t.TempDir(),
		"--listen-client-urls", scheme + client, "--advertise-client-urls", scheme + client,
		"--listen-peer-urls", scheme + peer, "--initial-advertise-peer-urls", scheme + peer,
		"--initial-cluster", "t1=" + scheme + peer, "--max-txn-ops", "10000", "--logger", "zap", "--log-level", "error"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	var sec *bench.Security
	if tls != nil {
		sec = &bench.Security{CACert: tls.CAFile}
	}
	if err := WaitSecureCluster(context.Background(), []string{client}, 1, 30*time.Second, sec); err != nil {
		t.Fatal(err)
	}
	return client
}

// TestEtcdWorkloads runs every workload for a small count against a real etcd.
func TestEtcdWorkloads(t *testing.T) {
	ep := startEtcd(t)
	tg, err := New([]string{ep})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	for _, w := range bench.Workloads {
		t.Run(w, func(t *testing.T) {
			cfg := bench.DefaultConfig()
			cfg.Endpoints, cfg.Workload, cfg.Keys, cfg.Concurrency, cfg.Count, cfg.Duration = []string{ep}, w, 200, 4, 100, 0
			cfg.Preload, cfg.BatchSize = w != bench.WorkloadBulk, 50
			if w == bench.WorkloadBulk {
				cfg.Count = 200
			}
			res, err := bench.Run(context.Background(), cfg, tg)
			if err != nil {
				t.Fatal(err)
			}
			if w == bench.WorkloadList {
				if res.Skipped == "" {
					t.Fatal("list must be skipped on etcd")
				}
				return
			}
			if res.ErrorCount() != 0 || res.Ops == 0 {
				t.Fatalf("ops %d errors %v, e.g. %v", res.Ops, res.Errors, res.ErrorSamples)
			}
		})
	}
}

func TestEtcdCAS(t *testing.T) {
	tg, err := New([]string{startEtcd(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	ctx := context.Background()
	m := bench.NewMapping(bench.Key(1), 1, 36)
	if _, err := tg.Lookup(ctx, 0, m.Key); !errors.Is(err, bench.ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
	rev, err := tg.Put(ctx, 0, m)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := tg.CAS(ctx, 0, m, rev+100)
	if !errors.Is(err, bench.ErrConflict) || cur != rev {
		t.Fatalf("cas on a wrong revision: %d %v, want a conflict reporting %d", cur, err, rev)
	}
	rev2, err := tg.CAS(ctx, 0, m, 0)
	if err != nil || rev2 <= rev {
		t.Fatalf("cas reading first: %d %v", rev2, err)
	}
	if got, err := tg.LookupStale(ctx, 0, m.Key); err != nil || got != rev2 {
		t.Fatalf("serializable get: %d %v, want %d", got, err, rev2)
	}
	big := make([]bench.Mapping, 20001)
	for i := range big {
		big[i] = bench.NewMapping(bench.Key(i), i, 8)
	}
	if _, err := tg.Bulk(ctx, 0, big); bench.Classify(err) != bench.KindClient {
		t.Fatalf("txn over --max-txn-ops: %v (%s)", err, bench.Classify(err))
	}
}
