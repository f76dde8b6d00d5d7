package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestUsers: user create, list, set-password, set-roles and delete (admin only: an operator's
// create and list are exit 1 and change nothing); the password comes from --password-file and
// never shows in any output; a duplicate, an unknown user, a bad role and an empty password
// file are exit 1.
func TestUsers(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	admin := map[string]string{"CELLMAP_TOKEN": testkit.AdminToken}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	op, err := n.Client.CreateToken(ctx, api.TokenCreate{Description: "op", Role: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	operator := map[string]string{"CELLMAP_TOKEN": op.Secret}
	dir := t.TempDir()
	pwFile, empty := filepath.Join(dir, "pw"), filepath.Join(dir, "empty")
	os.WriteFile(pwFile, []byte("hunter2-pw\n"), 0o600)
	os.WriteFile(empty, nil, 0o600)

	ctlEnv(t, n, operator, "user", "create", "--name", "alice", "--password-file", pwFile).want(t, exitUserFailed, "Refused")
	ctlEnv(t, n, operator, "user", "list").want(t, exitUserFailed, "Refused")
	r := ctlEnv(t, n, admin, "user", "create", "--name", "alice", "--password-file", pwFile, "--role", "demo=service", "--role", "ops=reader")
	r.want(t, exitOK, "alice", "demo=service, ops=reader")
	ctlEnv(t, n, admin, "user", "create", "--name", "alice", "--password-file", pwFile).wantExact(t, exitUserFailed, "User alice already exists.\n")
	ctlEnv(t, n, admin, "user", "create", "--name", "bob", "--password-file", empty).want(t, exitUserFailed, "Cannot read the password")
	ctlEnv(t, n, admin, "user", "create", "--name", "bob", "--password-file", pwFile, "--role", "demo=root").want(t, exitUserFailed, "Invalid user request")
	list := ctlEnv(t, n, admin, "user", "list")
	list.want(t, exitOK)
	if rows := tableRows(t, list.stdout); len(rows) != 1 || !reflect.DeepEqual(rows[0][1:], []string{"alice", "demo=service, ops=reader"}) {
		t.Fatalf("list: %q", rows)
	}
	js := ctlEnv(t, n, admin, "--format", "json", "user", "list")
	for _, out := range []result{r, list, js} {
		if strings.Contains(out.stdout+out.stderr, "hunter2") || strings.Contains(out.stdout, "argon2") {
			t.Fatalf("the password or its hash is shown:\n%s", out.stdout)
		}
	}
	ctlEnv(t, n, admin, "user", "set-password", "alice", "--password-file", pwFile).wantExact(t, exitOK, "Password of user alice changed; its tokens are revoked.\n")
	ctlEnv(t, n, admin, "user", "set-password", "bob", "--password-file", pwFile).wantExact(t, exitUserFailed, "User bob not found.\n")
	ctlEnv(t, n, admin, "user", "set-roles", "alice").want(t, exitOK, "alice")
	ctlEnv(t, n, admin, "user", "delete", "alice").wantExact(t, exitOK, "User alice deleted; its tokens are revoked.\n")
	ctlEnv(t, n, admin, "user", "delete", "alice").wantExact(t, exitUserFailed, "User alice not found.\n")
}

// TestReadPassword: the first line of the file or of stdin ("" and "-"), without its line
// ending; empty and oversized passwords are refused.
func TestReadPassword(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "pw")
	os.WriteFile(f, []byte("from-file\r\nsecond line\n"), 0o600)
	cases := []struct {
		path, stdin, want string
		ok                bool
	}{
		{f, "", "from-file", true},
		{"", "from-stdin\n", "from-stdin", true},
		{"-", "no-newline", "no-newline", true},
		{"", "", "", false},
		{"", "\n", "", false},
		{"", strings.Repeat("x", 2000), "", false},
		{filepath.Join(dir, "missing"), "", "", false},
	}
	for _, c := range cases {
		got, err := readPassword(c.path, strings.NewReader(c.stdin))
		if got != c.want || (err == nil) != c.ok {
			t.Errorf("readPassword(%q, %.12q) = %q, %v; want %q ok=%v", c.path, c.stdin, got, err, c.want, c.ok)
		}
	}
}
