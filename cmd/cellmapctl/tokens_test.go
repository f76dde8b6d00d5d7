package main

import (
	"strings"
	"testing"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/gossip"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

// TestTokenCommands: acl bootstrap (anyone, once: exit 1 the second time), token create, list
// and revoke (admin: a reader's token gets exit 1 and changes nothing), token secret offline.
func TestTokenCommands(t *testing.T) {
	n := testcluster.StartNode(t, &testcluster.Options{NoACLBootstrap: true})
	anon := map[string]string{"CELLMAP_TOKEN": ""}
	var boot api.Token
	decodeJSON(t, ctlEnv(t, n, anon, "--format", "json", "acl", "bootstrap"), &boot)
	if !acl.WellFormed(boot.Secret) || boot.Role != "admin" {
		t.Fatalf("bootstrap: %+v", boot)
	}
	ctlEnv(t, n, anon, "acl", "bootstrap").want(t, exitTokenFailed)
	admin := map[string]string{"CELLMAP_TOKEN": boot.Secret}

	var reader api.Token
	decodeJSON(t, ctlEnv(t, n, admin, "--format", "json", "token", "create", "--role", "reader", "--description", "ro", "--ttl", "1h"), &reader)
	if reader.Secret == "" || reader.ExpiresAt == nil {
		t.Fatalf("create: %+v", reader)
	}
	ctlEnv(t, n, admin, "token", "create", "--role", "superuser").want(t, exitTokenFailed)
	ctlEnv(t, n, map[string]string{"CELLMAP_TOKEN": reader.Secret}, "token", "list").want(t, exitTokenFailed)
	list := ctlEnv(t, n, admin, "token", "list")
	list.want(t, exitOK, reader.AccessorID, "reader")
	if strings.Contains(list.stdout, reader.Secret) || strings.Contains(list.stdout, boot.Secret) {
		t.Fatalf("token list shows a secret:\n%s", list.stdout)
	}
	ctlEnv(t, n, admin, "token", "revoke", reader.AccessorID).want(t, exitOK, "revoked")
	ctlEnv(t, n, admin, "token", "revoke", reader.AccessorID).want(t, exitTokenFailed)
	ctlEnv(t, n, map[string]string{"CELLMAP_TOKEN": reader.Secret}, "cell_v2", "list_cells").want(t, exitUnexpected)

	k := runCLI(t, anon, "keyring", "generate")
	if key, err := gossip.ParseKey(k.stdout); k.code != exitOK || err != nil || len(key) != 32 {
		t.Fatalf("keyring generate: %d %q %v", k.code, k.stdout, err)
	}
	s := runCLI(t, anon, "token", "secret")
	if s.code != exitOK || !acl.WellFormed(strings.TrimSpace(s.stdout)) {
		t.Fatalf("token secret: %d %q", s.code, s.stdout)
	}
}
