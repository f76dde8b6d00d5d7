package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/pki"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/transport"
	"github.com/hashicorp/go-hclog"
)

func noEnv(string) (string, bool) { return "", false }

// TestSecureByDefaultRefusals runs cellmapd's entry point with command lines it must refuse
// before listening anywhere: an address beyond loopback without TLS, --dev beyond loopback,
// half a TLS configuration, --dev-tls misused.
func TestSecureByDefaultRefusals(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--data-dir", dir, "--node-id", "n1"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"HTTP on every interface", []string{"--http-addr", "0.0.0.0:8480"}, "HTTP API on 0.0.0.0:8480 (plain HTTP)"},
		{"raft on a LAN address", []string{"--raft-addr", "10.1.2.3:8481"}, "raft on 10.1.2.3:8481 (plain TCP)"},
		{"gossip without a host", []string{"--gossip-addr", ":8482"}, "gossip on :8482 (unencrypted gossip)"},
		{"a host name", []string{"--http-addr", "cellmap.example:8480"}, "HTTP API on cellmap.example:8480"},
		{"--dev beyond loopback", []string{"--dev", "--http-addr", "0.0.0.0:8480", "--insecure"}, "--dev listens on loopback only"},
		{"half a TLS configuration", []string{"--tls-cert", "c.pem"}, "--tls-cert, --tls-key and --tls-ca go together"},
		{"--dev-tls without --dev", []string{"--dev-tls"}, "--dev-tls goes with --dev"},
		{"--dev-tls with files", []string{"--dev", "--dev-tls", "--tls-ca", "ca.pem"}, "do not combine"},
		{"gossip beyond loopback with TLS but no gossip key", []string{"--gossip-addr", "10.1.2.3:8482", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-ca", "ca.pem"},
			"gossip on 10.1.2.3:8482 (unencrypted gossip)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append(append([]string{}, base...), tt.args...), &stdout, &stderr, noEnv)
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused start left files in the data dir: %v", entries)
	}
}

// TestInsecureWarns: with --insecure a node starts and logs, on every start, a WARN line that
// names each listener without protection.
func TestInsecureWarns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	pr := &proc{id: "n1", dir: t.TempDir(), http: testkit.FreeAddr(t), raft: testkit.FreeAddr(t)}
	warn := regexp.MustCompile(`\[WARN\] +cellmapd: --insecure: listening without protection.*open="HTTP API on ` +
		regexp.QuoteMeta(pr.http) + ` \(plain HTTP\); raft on ` + regexp.QuoteMeta(pr.raft) + ` \(plain TCP\); gossip on .* \(unencrypted gossip\)"`)
	for start := 1; start <= 2; start++ {
		extra := []string{"--insecure"}
		if start == 1 {
			extra = append(extra, "--bootstrap")
		}
		startProc(t, pr, extra...)
		testcluster.WaitReady(t, pr.http, 30*time.Second)
		if !warn.MatchString(pr.p.Output()) {
			t.Fatalf("start %d: no WARN naming the open listeners in:\n%s", start, pr.p.Output())
		}
		if err := pr.p.Stop(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// Without --insecure nothing is said: the listeners are loopback only.
	o, err := parseFlags([]string{"--data-dir", t.TempDir()}, io.Discard, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	if _, err := o.serverConfig(hclog.New(&hclog.LoggerOptions{Output: &logs})); err != nil || logs.Len() != 0 {
		t.Fatalf("loopback without --insecure: %v, logged %q", err, logs.String())
	}
}

// TestDevTLS: cellmapd --dev --dev-tls generates a CA and certificates under <data-dir>/tls/
// (mode 0600) on first start and reuses them after, serves HTTPS only, prints the CA path to
// export, and its data plane reaches the cell1 conductor over mutual TLS.
func TestDevTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	http := testkit.FreeAddr(t)
	args := []string{"--dev", "--dev-tls", "--data-dir", dir, "--http-addr", http, "--raft-addr", testkit.FreeAddr(t),
		"--gossip-addr", testkit.FreeUDPTCPAddr(t), "--dev-conductor-addr", testkit.FreeAddr(t),
		"--dev-conductor-gossip-addr", testkit.FreeUDPTCPAddr(t), "--raft-profile", "test", "--gossip-profile", "test"}
	caFile, _ := pki.CAFiles(filepath.Join(dir, devTLSDir))
	var firstCA []byte
	for start := 1; start <= 2; start++ {
		p := testcluster.Start(t, "dev", testcluster.Binary(t, "cellmapd"), args...)
		testkit.WaitFor(t, "the dev help", 90*time.Second, func() bool { return strings.Contains(p.Output(), "Stop with Ctrl-C") })
		if !strings.Contains(p.Output(), "export CELLMAP_CACERT="+caFile) || !strings.Contains(p.Output(), "export CELLMAP_ADDR=https://"+http) {
			t.Fatalf("start %d: the help does not say what to export:\n%s", start, p.Output())
		}
		ca, err := os.ReadFile(caFile)
		if err != nil {
			t.Fatal(err)
		}
		if start == 1 {
			firstCA = ca
			entries, _ := os.ReadDir(filepath.Dir(caFile))
			if len(entries) != 6 { // the dev token is one level up
				t.Fatalf("got %d files in %s, want the CA, the node's and cell1's certificates and keys", len(entries), filepath.Dir(caFile))
			}
			for _, e := range entries {
				if info, _ := e.Info(); info.Mode().Perm() != 0o600 {
					t.Fatalf("%s: mode %v, want 0600", e.Name(), info.Mode().Perm())
				}
			}
		} else if !bytes.Equal(ca, firstCA) {
			t.Fatalf("the second start generated a new CA")
		}

		tlsCfg, err := transport.ClientTLSFromFiles(caFile, "", "")
		if err != nil {
			t.Fatal(err)
		}
		token, err := readSecret(filepath.Join(dir, devTokenFile))
		if err != nil {
			t.Fatalf("the dev admin token: %v", err)
		}
		if info, err := os.Stat(filepath.Join(dir, devTokenFile)); err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v; want mode 0600", devTokenFile, info.Mode(), err)
		}
		c, err := client.NewWithConfig(&client.Config{Addr: http, TLS: tlsCfg, Token: token})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cell, err := c.Cell(ctx(t, 10*time.Second), devCell1UUID)
		if err != nil || !strings.HasPrefix(cell.TransportURL, "https://") {
			t.Fatalf("cell1: %+v, %v; want an https transport URL", cell, err)
		}
		s, err := c.CreateServer(ctx(t, 10*time.Second), api.ServerCreateSpec{Name: "vm", FlavorRef: "1", ImageRef: "img", ProjectID: "p", UserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		testkit.WaitFor(t, "the server active in cell1", 30*time.Second, func() bool {
			got, err := c.Server(ctx(t, 5*time.Second), s.ID)
			return err == nil && got.Status == api.StatusActive && got.CellUUID == devCell1UUID
		})
		if _, err := client.New(http, nil).Cells(ctx(t, 5*time.Second), false); err == nil {
			t.Fatalf("plain HTTP was answered")
		}
		if err := p.Stop(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
}
