package httpapi_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/internal/audit"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// memAudit keeps the audit lines in memory.
type memAudit struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (m *memAudit) Record(e audit.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
	return nil
}

func (m *memAudit) take() []audit.Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.entries
	m.entries = nil
	return out
}

// TestAuditLog: a write, a read, a refused read, a refused write and an unknown route give
// the expected lines (who, route template, status, request id), and no line holds a secret.
func TestAuditLog(t *testing.T) {
	log := &memAudit{}
	n := testcluster.StartNode(t, &testcluster.Options{APIConfig: func(c *httpapi.Config) { c.Audit = log }})
	reader, err := n.Client.CreateToken(context.Background(), api.TokenCreate{Role: "reader", Description: "r"})
	if err != nil {
		t.Fatal(err)
	}
	log.take()
	steps := []struct {
		method, path, body, token string
		status                    int
		route, role               string // want a line; "" none
	}{
		{"POST", "/v1/cells", cellBody(cellA, "a", "rabbit://u:pw@a/", "mysql://u:pw@a"), testkit.AdminToken, 201, "/v1/cells", "admin"},
		{"GET", "/v1/cells/" + cellA, "", reader.Secret, 200, "", ""},
		{"GET", "/v1/cells", "", "", 401, "/v1/cells", ""},
		{"DELETE", "/v1/cells/" + cellA, "", reader.Secret, 403, "/v1/cells/{uuid}", "reader"},
		{"POST", "/v1/nowhere?secret=x", "{}", reader.Secret, 404, "(no route)", ""},
	}
	for _, st := range steps {
		a := call(t, n.Addr, st.method, st.path, st.body, "Authorization", bearerOf(st.token), "X-Request-Id", "rid-"+st.method)
		if a.status != st.status || a.header.Get(httpapi.HeaderRequestID) != "rid-"+st.method {
			t.Fatalf("%s %s: %d (request id %q)", st.method, st.path, a.status, a.header.Get(httpapi.HeaderRequestID))
		}
		got := log.take()
		if st.route == "" {
			if len(got) != 0 {
				t.Fatalf("%s %s: audit lines %+v, want none", st.method, st.path, got)
			}
			continue
		}
		if len(got) != 1 {
			t.Fatalf("%s %s: %d audit lines, want 1", st.method, st.path, len(got))
		}
		e := got[0]
		if e.Path != st.route || e.Status != st.status || e.Role != st.role || e.Method != st.method || e.RequestID != "rid-"+st.method ||
			e.RemoteAddr == "" || e.Time.IsZero() || (st.role != "" && e.AccessorID == "") {
			t.Fatalf("%s %s: line %+v", st.method, st.path, e)
		}
		line := strings.Join([]string{e.AccessorID, e.Path, e.RequestID}, " ")
		for _, secret := range []string{testkit.AdminToken, reader.Secret, "pw@", "secret=x"} {
			if strings.Contains(line, secret) {
				t.Fatalf("an audit line holds a secret: %+v", e)
			}
		}
	}
}
