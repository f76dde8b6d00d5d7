// Package keystonetest runs Debian's real Keystone (python3-keystone) for tests: on
// 127.0.0.1, with a SQLite database and fernet keys in the test's temporary directory, and
// an admin (keystone-manage bootstrap) the test uses through Keystone's REST API.
package keystonetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// Required is the environment variable that makes a missing Keystone a failure (CI).
const Required = "CELLMAP_KEYSTONE_REQUIRED"

// Keystone is a running Keystone.
type Keystone struct {
	// URL is the identity endpoint, http://127.0.0.1:P/v3.
	URL           string
	AdminPassword string
	t             testing.TB
	admin         string // an admin token (project admin)
	dir           string
}

// Start starts Keystone and waits until it authenticates its admin; it is stopped when the
// test ends. Without keystone-manage the test is skipped in one line (a failure when
// CELLMAP_KEYSTONE_REQUIRED=1).
func Start(t testing.TB) *Keystone {
	t.Helper()
	manage := testkit.Tool(t, "keystone-manage", "python3-keystone", Required)
	wsgi := testkit.Tool(t, "keystone-wsgi-public", "python3-keystone", Required)
	dir := t.TempDir()
	addr := testkit.FreeAddr(t)
	ks := &Keystone{URL: "http://" + addr + "/v3", AdminPassword: "admin-secret", t: t, dir: dir}
	conf := filepath.Join(dir, "keystone.conf")
	for _, d := range []string{"fernet", "credential"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	text := fmt.Sprintf("[DEFAULT]\nlog_dir = %[1]s\n[database]\nconnection = sqlite:///%[1]s/keystone.db\n"+
		"[fernet_tokens]\nkey_repository = %[1]s/fernet\n[credential]\nkey_repository = %[1]s/credential\n"+
		"[token]\nprovider = fernet\n", dir)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"db_sync"},
		{"fernet_setup", "--keystone-user", "root", "--keystone-group", "root"},
		{"credential_setup", "--keystone-user", "root", "--keystone-group", "root"},
		{"bootstrap", "--bootstrap-password", ks.AdminPassword, "--bootstrap-public-url", ks.URL, "--bootstrap-region-id", "RegionOne"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		out, err := exec.CommandContext(ctx, manage, append([]string{"--config-file", conf}, args...)...).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("keystone-manage %s: %v\n%s", args[0], err, out)
		}
	}
	// WAL: a read transaction Keystone leaves open on one pooled connection would otherwise
	// lock every write out ("database is locked").
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	out, err := exec.CommandContext(ctx, testkit.Interpreter(t, manage), "-c", "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA journal_mode=WAL')",
		filepath.Join(dir, "keystone.db")).CombinedOutput()
	cancel()
	if err != nil {
		t.Fatalf("keystone database in WAL mode: %v\n%s", err, out)
	}
	port := addr[strings.LastIndex(addr, ":")+1:]
	srv := exec.Command(wsgi, "--host", "127.0.0.1", "--port", port, "--", "--config-file", conf)
	logf, err := os.Create(filepath.Join(dir, "wsgi.log"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
		logf.Close()
	})
	testkit.WaitFor(t, "keystone to authenticate its admin", 60*time.Second, func() bool {
		tok, err := ks.Token("admin", ks.AdminPassword, "admin")
		ks.admin = tok
		return err == nil
	})
	return ks
}

// Token authenticates user (domain Default) with a password, scoped to project (by name).
func (k *Keystone) Token(user, password, project string) (string, error) {
	body := fmt.Sprintf(`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": %q, "domain": {"id": "default"}, "password": %q}}},`+
		` "scope": {"project": {"name": %q, "domain": {"id": "default"}}}}}`, user, password, project)
	resp, err := http.Post(k.URL+"/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		return "", fmt.Errorf("keystone auth %s: %d %s", user, resp.StatusCode, b)
	}
	return resp.Header.Get("X-Subject-Token"), nil
}

// Do sends an admin request to Keystone and decodes the answer's JSON into out (when not nil).
// Keystone on SQLite sometimes fails a write with "database is locked" (500, rolled back):
// such a request is sent again, up to 5 times.
func (k *Keystone) Do(method, path string, in, out any, header ...string) {
	k.t.Helper()
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			k.t.Fatal(err)
		}
	}
	var status int
	var b []byte
	for attempt := 0; attempt < 5; attempt++ {
		status, b = k.send(method, path, payload, header)
		if status != http.StatusInternalServerError {
			break
		}
	}
	if status >= 300 {
		k.t.Fatalf("keystone %s %s: %d %s\n%s", method, path, status, b, k.logTail())
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			k.t.Fatalf("keystone %s %s: %v (%s)", method, path, err, b)
		}
	}
}

func (k *Keystone) send(method, path string, payload []byte, header []string) (int, []byte) {
	k.t.Helper()
	req, err := http.NewRequest(method, k.URL+path, bytes.NewReader(payload))
	if err != nil {
		k.t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", k.admin)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		k.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// CreateProject creates a project in the Default domain and returns its id.
func (k *Keystone) CreateProject(name string) string {
	var out struct {
		Project struct{ ID string } `json:"project"`
	}
	k.Do("POST", "/projects", map[string]any{"project": map[string]string{"name": name, "domain_id": "default"}}, &out)
	return out.Project.ID
}

// CreateUser creates a user with a password and gives it role (admin, member or reader) on
// the project; it returns the user's id.
func (k *Keystone) CreateUser(name, password, projectID, role string) string {
	var u struct {
		User struct{ ID string } `json:"user"`
	}
	k.Do("POST", "/users", map[string]any{"user": map[string]string{"name": name, "password": password, "domain_id": "default"}}, &u)
	var roles struct {
		Roles []struct{ ID string } `json:"roles"`
	}
	k.Do("GET", "/roles?name="+role, nil, &roles)
	if len(roles.Roles) != 1 {
		k.t.Fatalf("keystone role %s: %v", role, roles)
	}
	k.Do("PUT", "/projects/"+projectID+"/users/"+u.User.ID+"/roles/"+roles.Roles[0].ID, nil, nil)
	return u.User.ID
}

// AddEndpoint registers a service of type typ with a public endpoint in RegionOne.
func (k *Keystone) AddEndpoint(typ, name, url string) {
	var s struct {
		Service struct{ ID string } `json:"service"`
	}
	k.Do("POST", "/services", map[string]any{"service": map[string]string{"type": typ, "name": name}}, &s)
	k.Do("POST", "/endpoints", map[string]any{"endpoint": map[string]string{"service_id": s.Service.ID, "interface": "public",
		"url": url, "region_id": "RegionOne"}}, nil)
}

// Revoke revokes a token.
func (k *Keystone) Revoke(token string) {
	k.Do("DELETE", "/auth/tokens", nil, nil, "X-Subject-Token", token)
}

// logTail is the end of Keystone's log, for a failure's message.
func (k *Keystone) logTail() string {
	a, _ := os.ReadFile(filepath.Join(k.dir, "keystone-wsgi-public.log"))
	w, _ := os.ReadFile(filepath.Join(k.dir, "wsgi.log"))
	b := append(a, w...)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
