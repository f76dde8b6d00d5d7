package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// TestKeystoneFlags: --keystone-url and --keystone-credentials-file go together, the
// credentials file must name a whole service user, and without a URL there is no validator.
func TestKeystoneFlags(t *testing.T) {
	dir := t.TempDir()
	good, partial := filepath.Join(dir, "good.json"), filepath.Join(dir, "partial.json")
	if err := os.WriteFile(good, []byte(`{"username": "cellmap", "password": "pw", "project_name": "service"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(partial, []byte(`{"username": "cellmap"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		flags         keystoneFlags
		wantValidator bool
		wantErr       bool
	}{
		{"off", keystoneFlags{}, false, false},
		{"url and credentials", keystoneFlags{url: "http://127.0.0.1:5000/v3", credentialsFile: good}, true, false},
		{"url without credentials", keystoneFlags{url: "http://127.0.0.1:5000/v3"}, false, true},
		{"credentials without url", keystoneFlags{credentialsFile: good}, false, true},
		{"credentials without a password", keystoneFlags{url: "http://127.0.0.1:5000/v3", credentialsFile: partial}, false, true},
		{"missing credentials file", keystoneFlags{url: "http://127.0.0.1:5000/v3", credentialsFile: filepath.Join(dir, "none")}, false, true},
		{"not an http url", keystoneFlags{url: "keystone:5000", credentialsFile: good}, false, true},
	} {
		v, err := tc.flags.validator(hclog.NewNullLogger())
		if (err != nil) != tc.wantErr || (v != nil) != tc.wantValidator {
			t.Errorf("%s: validator %v, error %v", tc.name, v, err)
		}
	}
}
