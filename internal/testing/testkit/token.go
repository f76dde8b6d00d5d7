package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

// AdminToken is the admin token of every test cluster: in-process nodes are bootstrapped with
// it, processes get it with --acl-bootstrap-token-file (AdminTokenFile). Tests only.
const AdminToken = "cm_Y2VsbG1hcCB0ZXN0IGFkbWluIHRva2VuLCAzMiBiISE"

// AdminTokenFile writes AdminToken to a file (mode 0600) in a temp dir and returns its path.
func AdminTokenFile(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(p, []byte(AdminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
