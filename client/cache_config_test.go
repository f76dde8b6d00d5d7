package client

import (
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
)

// TestCacheConfigValidate: every bad setting is refused with a message naming it. No role:
// configuration only.
func TestCacheConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*CacheConfig)
		want   string // "" = valid
	}{
		{"default", func(*CacheConfig) {}, ""},
		{"all kinds", func(c *CacheConfig) { c.Kinds = cacheKinds }, ""},
		{"cell filter", func(c *CacheConfig) {
			c.CellUUID, c.Kinds = "5a0e6b1c-0c8e-4d7e-9d3c-3f1b2f0e9a11", []string{api.KindInstanceMappings, api.KindCells}
		}, ""},
		{"no endpoints", func(c *CacheConfig) { c.Endpoints = nil }, "Endpoints"},
		{"bad endpoint", func(c *CacheConfig) { c.Endpoints = []string{"ftp://x:1"} }, "Endpoints"},
		{"no kinds", func(c *CacheConfig) { c.Kinds = nil }, "Kinds"},
		{"unknown kind", func(c *CacheConfig) { c.Kinds = []string{"servers"} }, "unknown kind"},
		{"project with hosts", func(c *CacheConfig) {
			c.ProjectID, c.Kinds = "p1", []string{api.KindInstanceMappings, api.KindHostMappings}
		}, "ProjectID"},
		{"cell with flavors", func(c *CacheConfig) { c.CellUUID, c.Kinds = "c", []string{api.KindFlavors} }, "CellUUID"},
		{"zero staleness", func(c *CacheConfig) { c.MaxStaleness = 0 }, "MaxStaleness"},
		{"progress too fast", func(c *CacheConfig) { c.ProgressInterval = time.Millisecond }, "ProgressInterval"},
		{"progress above staleness", func(c *CacheConfig) { c.ProgressInterval = c.MaxStaleness }, "below MaxStaleness"},
		{"probe above staleness", func(c *CacheConfig) { c.ProbeInterval = 2 * c.MaxStaleness }, "below MaxStaleness"},
		{"backoff order", func(c *CacheConfig) { c.MinBackoff = time.Hour }, "MinBackoff"},
		{"page size", func(c *CacheConfig) { c.PageSize = 20000 }, "PageSize"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultCacheConfig()
			tc.change(cfg)
			err := cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("want an error about %q, got %v", tc.want, err)
			}
		})
	}
}

// TestCacheStateDiff: a relist turns the old state into the new one with adds, updates (a
// new revision) and deletes, ordered by kind then key; an unchanged record fires nothing.
func TestCacheStateDiff(t *testing.T) {
	t.Parallel()
	kinds := []string{api.KindInstanceMappings, api.KindHostMappings}
	cell := "c1"
	m := func(uuid string, rev uint64) *api.InstanceMapping {
		return &api.InstanceMapping{InstanceUUID: uuid, ProjectID: "p", CellUUID: &cell, Revision: rev}
	}
	old, next := newCacheState(kinds), newCacheState(kinds)
	old.put(api.KindInstanceMappings, "a", m("a", 1))
	old.put(api.KindInstanceMappings, "b", m("b", 2))
	old.put(api.KindInstanceMappings, "c", m("c", 3))
	old.put(api.KindHostMappings, "h1", &api.HostMapping{Host: "h1", Revision: 4})
	next.put(api.KindInstanceMappings, "b", m("b", 2))
	next.put(api.KindInstanceMappings, "c", m("c", 9))
	next.put(api.KindInstanceMappings, "d", m("d", 8))
	got := old.diff(next, kinds, 10)
	want := []struct {
		t   ChangeType
		key string
	}{{ChangeDelete, "a"}, {ChangeUpdate, "c"}, {ChangeAdd, "d"}, {ChangeDelete, "h1"}}
	if len(got) != len(want) {
		t.Fatalf("got %d changes %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if got[i].Type != w.t || got[i].Key != w.key || got[i].Revision != 10 {
			t.Fatalf("change %d: got %v %s@%d, want %v %s@10", i, got[i].Type, got[i].Key, got[i].Revision, w.t, w.key)
		}
	}
	if len(old.byCell[cell]) != 3 || len(next.byProject["p"]) != 3 {
		t.Fatalf("indexes: old by cell %d, next by project %d", len(old.byCell[cell]), len(next.byProject["p"]))
	}
	next.remove(api.KindInstanceMappings, "b")
	if _, ok := next.byProject["p"]["b"]; ok || len(next.instances) != 2 {
		t.Fatalf("remove left b indexed: %v", next.byProject["p"])
	}
}

// TestCacheConfigClients: clients made elsewhere stand in for Endpoints, in order. No role:
// configuration only.
func TestCacheConfigClients(t *testing.T) {
	t.Parallel()
	cfg := DefaultCacheConfig()
	cfg.Endpoints = nil
	cfg.Clients = []*Client{New("10.0.0.1:1", nil).WithToken("a"), New("https://10.0.0.2:1", nil)}
	c, err := NewCache(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.clients) != 2 || c.clients[0].token != "a" || c.Endpoint() != "http://10.0.0.1:1" || c.clients[1].Addr() != "https://10.0.0.2:1" {
		t.Fatalf("clients %v, endpoint %s", c.clients, c.Endpoint())
	}
}
