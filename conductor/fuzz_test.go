package conductor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/hashicorp/go-hclog"
	bolt "go.etcd.io/bbolt"
)

// dbDigest hashes every key and value of the cell database.
func dbDigest(t *testing.T, c *Conductor) [32]byte {
	h := sha256.New()
	err := c.db.bolt.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			h.Write(name)
			return b.ForEach(func(k, v []byte) error { h.Write(k); h.Write(v); return nil })
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}

// fuzzConductor is a conductor whose handler the fuzz targets call directly (nothing served,
// gossip not joined); it logs nothing, as a fuzz target may not log through its *testing.F.
func fuzzConductor(f *testing.F) *Conductor {
	cfg := DefaultConfig()
	cfg.CellUUID, cfg.DataDir, cfg.HTTPAddr, cfg.Name = testCell, f.TempDir(), "127.0.0.1:1", "fuzz"
	cfg.GossipAddr, cfg.GossipProfile, cfg.Hosts = testkit.FreeUDPTCPAddr(f), "test", []api.ComputeHostCreate{host("h1", 64, 65536, 1000)}
	cfg.Logger = hclog.NewNullLogger()
	c, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = c.Shutdown(context.Background()) })
	return c
}

// serveFuzz runs one request through the conductor's handler: never a panic nor a 5xx, and
// a refused request writes nothing.
func serveFuzz(t *testing.T, c *Conductor, method, target string, body []byte) {
	before := dbDigest(t, c)
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	req.URL.RawQuery = ""
	u, err := req.URL.Parse(target)
	if err != nil {
		return // not a request line a client can send
	}
	req.URL, req.RequestURI = u, ""
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, req)
	switch {
	case rec.Code >= 500:
		t.Fatalf("%s %s %q: %d %s, want 2xx or 4xx", method, target, body, rec.Code, rec.Body)
	case rec.Code >= 400 && dbDigest(t, c) != before:
		t.Fatalf("%s %s %q was refused with %d but changed the cell database", method, target, body, rec.Code)
	}
}

// FuzzConductorBodies sends arbitrary bodies to the conductor's write endpoints.
func FuzzConductorBodies(f *testing.F) {
	for _, s := range []struct {
		endpoint uint8
		body     string
	}{
		{0, `{"uuid":"` + testCell + `","name":"vm","project_id":"p","flavor":{"vcpus":1,"ram_mb":1,"disk_gb":0},"created_at":"2020-01-01T00:00:00Z"}`},
		{0, `{"uuid":"x"}`}, {0, `{}`}, {0, "{\"name\":\"\xff\"}"},
		{1, `{"name":"h9","vcpus":4,"ram_mb":4096,"disk_gb":10}`}, {1, `{"name":"","vcpus":-1}`},
		{2, `{"mapped":true}`}, {2, `{"mapped":"yes"}`},
	} {
		f.Add(s.endpoint, []byte(s.body))
	}
	c := fuzzConductor(f)
	targets := []struct{ method, path string }{
		{http.MethodPost, "/v1/instances"}, {http.MethodPost, "/v1/compute-hosts"}, {http.MethodPut, "/v1/compute-hosts/h1/mapped"},
	}
	f.Fuzz(func(t *testing.T, endpoint uint8, body []byte) {
		tg := targets[int(endpoint)%len(targets)]
		serveFuzz(t, c, tg.method, tg.path, body)
	})
}

// FuzzConductorQueries sends arbitrary query strings to the conductor's listing, capacity and
// show endpoints.
func FuzzConductorQueries(f *testing.F) {
	for _, q := range []string{"limit=10&sort_key=created_at&sort_dir=desc", "project_id=p&after={}", "vcpus=1&ram_mb=1&disk_gb=0",
		"limit=-1", "sort_key=x&sort_key=y", "deleted=true&deleted=false", "after=%7B%22created_at%22%3A1%7D", "vcpus=99999999999999999999"} {
		f.Add(q)
	}
	c := fuzzConductor(f)
	f.Fuzz(func(t *testing.T, query string) {
		for _, p := range []string{"/v1/instances", "/v1/capacity", "/v1/instances/" + testCell, "/v1/compute-hosts"} {
			serveFuzz(t, c, http.MethodGet, p+"?"+query, nil)
		}
	})
}
