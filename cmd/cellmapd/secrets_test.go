package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestNoSecretInLogsOrResponses runs a scenario with known secrets (cell URLs with passwords,
// tokens of every role, refused and failed requests) against real processes at debug level,
// then greps every log line, the audit log and every response below operator for them. Only
// operators and admins see cell passwords; a token secret appears only in the answer that
// created it.
func TestNoSecretInLogsOrResponses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	auditPath := filepath.Join(t.TempDir(), "audit.log")
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{Size: 3,
		Args: []string{"--log-level", "trace", "--audit-log", auditPath}})
	admin := c.Leader(t).Client
	const pwMQ, pwDB = "mq-Pa55w0rd-x1", "db-Pa55w0rd-y2"
	secrets := []string{pwMQ, pwDB, testkit.AdminToken}
	cell := api.CellCreate{UUID: "5ec2e700-0000-4000-8000-000000000001", Name: "secret-cell",
		TransportURL: "rabbit://nova:" + pwMQ + "@mq1:5672,nova:" + pwMQ + "@mq2:5672/", DatabaseConnection: "mysql+pymysql://nova:" + pwDB + "@db/nova"}
	if _, err := admin.CreateCell(ctx(t, 10*time.Second), cell); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateCell(ctx(t, 10*time.Second), cell); err == nil { // a duplicate: the error must not echo the URLs
		t.Fatal("duplicate cell accepted")
	}
	tokens, accessors := map[string]string{}, map[string]string{}
	for _, role := range []string{"reader", "service", "operator"} {
		tok, err := admin.CreateToken(ctx(t, 10*time.Second), api.TokenCreate{Role: role, Description: role})
		if err != nil {
			t.Fatal(err)
		}
		tokens[role], accessors[role] = tok.Secret, tok.AccessorID
		secrets = append(secrets, tok.Secret)
	}
	var below []string // bodies every role below operator got
	for _, n := range c.Nodes {
		for _, role := range []string{"reader", "service"} {
			for _, path := range []string{"/v1/cells", "/v1/cells?expand=true", "/v1/cells/" + cell.UUID, "/v1/instance-mappings/" + cell.UUID + "?with_cell=true",
				"/v1/cells/" + cell.UUID + "?expand=true", "/v1/acl/token/self", "/v1/acl/tokens"} {
				below = append(below, get(t, n.HTTP, path, tokens[role]))
			}
		}
		below = append(below, get(t, n.HTTP, "/v1/cells", "cm_"+strings.Repeat("A", 43)), get(t, n.HTTP, "/v1/cells", ""))
	}
	if err := admin.RevokeToken(ctx(t, 30*time.Second), accessors["service"]); err != nil {
		t.Fatal(err)
	}
	below = append(below, get(t, c.Nodes[1].HTTP, "/v1/cells", tokens["service"]))
	for _, body := range below {
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Fatalf("a response below operator holds a secret (%.12s…): %s", s, body)
			}
		}
	}
	if op := get(t, c.Nodes[0].HTTP, "/v1/cells/"+cell.UUID, tokens["operator"]); !strings.Contains(op, pwMQ) {
		t.Fatalf("an operator does not see the URLs as stored: %s", op)
	}
	logs := map[string]string{}
	for _, n := range c.Nodes {
		logs[n.ID] = n.Proc.Output()
	}
	if b, err := os.ReadFile(auditPath); err == nil {
		logs["audit"] = string(b)
	}
	for name, text := range logs {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				i := strings.Index(text, s)
				t.Fatalf("the %s log holds a secret: …%s…", name, text[max(0, i-200):min(len(text), i+40)])
			}
		}
	}
}

// get answers the body of GET path on the node at addr with token ("" none).
func get(t *testing.T, addr, path, token string) string {
	t.Helper()
	_, body := getStatus(t, addr, path, token)
	return body
}

// getStatus answers the status and body of GET path on the node at addr with token ("" none).
func getStatus(t *testing.T, addr, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t, 10*time.Second), http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
