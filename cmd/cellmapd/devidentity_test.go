package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// openstack runs the real client with only the given clouds.yaml and cloud (no other OS_*
// variable of the environment), returning its output.
func openstack(t *testing.T, clouds, cloud string, args ...string) (string, error) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(c, "openstack", args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OS_") && !strings.HasPrefix(kv, "HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "OS_CLIENT_CONFIG_FILE="+clouds, "OS_CLOUD="+cloud, "HOME="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// openstackJSON runs a command with -f json and decodes its output.
func openstackJSON(t *testing.T, v any, clouds, cloud string, args ...string) {
	t.Helper()
	out, err := openstack(t, clouds, cloud, append(args, "-f", "json")...)
	if err != nil {
		t.Fatalf("openstack %v: %v\n%s", args, err, out)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("openstack %v: not JSON: %v\n%s", args, err, out)
	}
}

// TestDevOpenStackClient: cellmapd --dev creates the admin user of the built-in identity (its
// password generated into <data-dir>/dev-admin-password, mode 0600, and kept across restarts),
// writes <data-dir>/clouds.yaml (0600) with the cloud cellmap-dev and prints the two exports;
// with only that file the real openstack client issues a token, lists flavors and servers
// (admin). A wrong password is refused; a project reader's cloud may list flavors and is
// refused the hypervisor list, which needs an operator.
func TestDevOpenStackClient(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	testkit.Tool(t, "openstack", "python3-openstackclient", "CELLMAP_OPENSTACK_REQUIRED")
	dir := t.TempDir()
	http := testkit.FreeAddr(t)
	args := []string{"--dev", "--data-dir", dir, "--http-addr", http, "--raft-addr", testkit.FreeAddr(t),
		"--gossip-addr", testkit.FreeUDPTCPAddr(t), "--dev-conductor-addr", testkit.FreeAddr(t),
		"--dev-conductor-gossip-addr", testkit.FreeUDPTCPAddr(t), "--raft-profile", "test", "--gossip-profile", "test"}
	clouds, pwFile := filepath.Join(dir, devCloudsFile), filepath.Join(dir, devPasswordFile)
	var firstPassword []byte
	for start := 1; start <= 2; start++ {
		p := testcluster.Start(t, "dev", testcluster.Binary(t, "cellmapd"), args...)
		testkit.WaitFor(t, "the dev help", 90*time.Second, func() bool { return strings.Contains(p.Output(), "Stop with Ctrl-C") })
		if !strings.Contains(p.Output(), "export OS_CLIENT_CONFIG_FILE="+clouds+"\n") || !strings.Contains(p.Output(), "export OS_CLOUD=cellmap-dev\n") {
			t.Fatalf("start %d: the help does not say what to export:\n%s", start, p.Output())
		}
		for _, f := range []string{clouds, pwFile} {
			if info, err := os.Stat(f); err != nil || info.Mode().Perm() != 0o600 {
				t.Fatalf("%s: %v; want mode 0600", f, err)
			}
		}
		pw, _ := os.ReadFile(pwFile)
		if start == 1 {
			firstPassword = pw
		} else if !bytes.Equal(pw, firstPassword) {
			t.Fatal("the second start made a new password")
		}
		if strings.Contains(p.Output(), strings.TrimSpace(string(pw))) {
			t.Fatal("the password is in cellmapd's output")
		}

		var tok map[string]any
		openstackJSON(t, &tok, clouds, devCloud, "token", "issue")
		if id, _ := tok["id"].(string); !strings.HasPrefix(id, "cm_") || tok["project_id"] != devProject || tok["user_id"] == "" {
			t.Fatalf("token issue: %v", tok)
		}
		var flavors []map[string]any
		openstackJSON(t, &flavors, clouds, devCloud, "flavor", "list")
		if len(flavors) != len(devFlavors) {
			t.Fatalf("flavor list: %v", flavors)
		}
		var servers []map[string]any
		openstackJSON(t, &servers, clouds, devCloud, "server", "list")
		if start == 2 {
			refusals(t, http, dir, clouds, strings.TrimSpace(string(pw)))
		}
		if err := p.Stop(10 * time.Second); err != nil {
			t.Fatal(err)
		}
	}
}

// refusals: a wrong password is refused; a project reader (a user the dev admin token
// creates) may list flavors and is refused the hypervisor list (operator).
func refusals(t *testing.T, http, dir, clouds, pw string) {
	yaml, _ := os.ReadFile(clouds)
	wrong := filepath.Join(t.TempDir(), "clouds.yaml")
	os.WriteFile(wrong, []byte(strings.Replace(string(yaml), pw, pw+"x", 1)), 0o600)
	if out, err := openstack(t, wrong, devCloud, "token", "issue"); err == nil || !strings.Contains(out, "401") {
		t.Fatalf("a wrong password: %v\n%s", err, out)
	}
	token, err := readSecret(filepath.Join(dir, devTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.NewWithConfig(&client.Config{Addr: http, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.CreateUser(ctx(t, 10*time.Second), api.UserCreate{Name: "viewer", Password: "viewer-pw", Roles: map[string]string{"demo": "reader"}}); err != nil {
		t.Fatal(err)
	}
	reader := strings.NewReplacer("username: admin", "username: viewer", "'"+pw+"'", "'viewer-pw'", "project_name: admin", "project_name: demo").Replace(string(yaml))
	readerClouds := filepath.Join(t.TempDir(), "clouds.yaml")
	os.WriteFile(readerClouds, []byte(reader), 0o600)
	var flavors []map[string]any
	openstackJSON(t, &flavors, readerClouds, devCloud, "flavor", "list")
	if out, err := openstack(t, readerClouds, devCloud, "hypervisor", "list"); err == nil || !strings.Contains(out, "403") {
		t.Fatalf("a reader lists hypervisors: %v\n%s", err, out)
	}
}
