package keystone

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellmap/cellmap/acl"
)

// fakeKeystone answers password auth for the service user and GET /v3/auth/tokens for the
// tokens in its table; it counts validations and can refuse the service token once.
type fakeKeystone struct {
	mu          sync.Mutex
	tokens      map[string]string // subject token -> token document JSON
	validations atomic.Int32
	refuseSvc   atomic.Bool
	down        atomic.Bool
	svcIssued   atomic.Int32
}

func (f *fakeKeystone) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.down.Load() {
		http.Error(w, "down", http.StatusBadGateway)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v3/auth/tokens":
		n := f.svcIssued.Add(1)
		w.Header().Set("X-Subject-Token", "svc-"+string(rune('0'+n)))
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"token": {"expires_at": "` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}}`))
	case r.Method == http.MethodGet && r.URL.Path == "/v3/auth/tokens":
		f.validations.Add(1)
		if f.refuseSvc.CompareAndSwap(true, false) {
			http.Error(w, `{"error": {"code": 401}}`, http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		doc, ok := f.tokens[r.Header.Get("X-Subject-Token")]
		f.mu.Unlock()
		if !ok {
			http.Error(w, `{"error": {"code": 404}}`, http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(doc))
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeKeystone) set(token, doc string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if doc == "" {
		delete(f.tokens, token)
		return
	}
	f.tokens[token] = doc
}

func tokenDoc(project string, roles ...string) string {
	type role struct {
		Name string `json:"name"`
	}
	t := map[string]any{"expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "user": map[string]string{"id": "u1", "name": "alice"}}
	if project != "" {
		t["project"] = map[string]string{"id": project}
	}
	rs := []role{}
	for _, r := range roles {
		rs = append(rs, role{r})
	}
	t["roles"] = rs
	b, _ := json.Marshal(map[string]any{"token": t})
	return string(b)
}

func newValidator(t *testing.T, f *fakeKeystone, ttl time.Duration) *Validator {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg := DefaultConfig()
	cfg.URL, cfg.CacheTTL = srv.URL+"/v3", ttl
	cfg.Service = Credentials{Username: "cellmap", Password: "pw", ProjectName: "service", UserDomainName: "Default", ProjectDomainName: "Default"}
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRoleMapping: Keystone's admin is cellmap's admin (cloud-wide), member the project's
// service role, reader the project's reader; the highest role wins; no known role, or a
// project role without a project, is forbidden; an unknown token is unauthenticated.
func TestRoleMapping(t *testing.T) {
	f := &fakeKeystone{tokens: map[string]string{}}
	v := newValidator(t, f, time.Minute)
	for _, tc := range []struct {
		name, doc    string
		role         acl.Role
		project      string
		wantErr      error
		unknownToken bool
	}{
		{name: "admin", doc: tokenDoc("p1", "admin", "member", "reader"), role: acl.RoleAdmin},
		{name: "member", doc: tokenDoc("p1", "member", "reader"), role: acl.RoleService, project: "p1"},
		{name: "reader", doc: tokenDoc("p2", "reader"), role: acl.RoleReader, project: "p2"},
		{name: "case-insensitive", doc: tokenDoc("p3", "Member"), role: acl.RoleService, project: "p3"},
		{name: "no known role", doc: tokenDoc("p1", "heat_stack_owner"), wantErr: acl.ErrForbidden},
		{name: "member unscoped", doc: tokenDoc("", "member"), wantErr: acl.ErrForbidden},
		{name: "unknown token", unknownToken: true, wantErr: acl.ErrUnauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := "tok-" + tc.name
			if !tc.unknownToken {
				f.set(tok, tc.doc)
			}
			id, err := v.Identify(context.Background(), tok)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, %v; want %v", id, err, tc.wantErr)
				}
				return
			}
			if err != nil || id.Role != tc.role || id.ProjectID != tc.project {
				t.Fatalf("got %+v, %v; want role %s project %q", id, err, tc.role, tc.project)
			}
		})
	}
}

// TestCacheBound: a validation (good or bad) is reused until the TTL; a token revoked in
// Keystone is refused once the TTL has passed; an unavailable Keystone is a 503-kind error
// and is not cached; a refused service token is replaced once.
func TestCacheBound(t *testing.T) {
	f := &fakeKeystone{tokens: map[string]string{}}
	v := newValidator(t, f, 10*time.Second)
	now := time.Now()
	v.now = func() time.Time { return now }
	ctx := context.Background()
	f.set("t1", tokenDoc("p1", "member"))
	for range 3 {
		if _, err := v.Identify(ctx, "t1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.validations.Load(); n != 1 {
		t.Fatalf("%d validations for three identical requests inside the TTL, want 1", n)
	}
	f.set("t1", "") // revoked
	if _, err := v.Identify(ctx, "t1"); err != nil {
		t.Fatalf("inside the TTL the cached validation stands: %v", err)
	}
	now = now.Add(11 * time.Second)
	if _, err := v.Identify(ctx, "t1"); !errors.Is(err, acl.ErrUnauthenticated) {
		t.Fatalf("after the TTL a revoked token: %v, want unauthenticated", err)
	}

	f.down.Store(true)
	if _, err := v.Identify(ctx, "t2"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Keystone down: %v, want ErrUnavailable", err)
	}
	f.down.Store(false)
	f.set("t2", tokenDoc("p1", "reader"))
	if id, err := v.Identify(ctx, "t2"); err != nil || id.Role != acl.RoleReader {
		t.Fatalf("after Keystone is back (nothing cached): %+v, %v", id, err)
	}

	f.refuseSvc.Store(true)
	f.set("t3", tokenDoc("p1", "member"))
	if _, err := v.Identify(ctx, "t3"); err != nil {
		t.Fatalf("a refused service token is replaced once: %v", err)
	}
	if n := f.svcIssued.Load(); n != 2 {
		t.Fatalf("%d service tokens issued, want 2 (the first was refused)", n)
	}
}

// TestCacheSizeBound: the cache holds at most CacheMax validations (least recently used out).
func TestCacheSizeBound(t *testing.T) {
	f := &fakeKeystone{tokens: map[string]string{}}
	v := newValidator(t, f, time.Hour)
	v.cfg.CacheMax = 2
	for _, tok := range []string{"a", "b", "c"} {
		f.set(tok, tokenDoc("p1", "reader"))
		if _, err := v.Identify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if v.lru.Len() != 2 || len(v.cache) != 2 {
		t.Fatalf("cache holds %d/%d, want 2", v.lru.Len(), len(v.cache))
	}
	before := f.validations.Load()
	if _, err := v.Identify(context.Background(), "a"); err != nil || f.validations.Load() != before+1 {
		t.Fatalf("the evicted token was not validated again (%v)", err)
	}
}

func TestConfigValidate(t *testing.T) {
	good := func() *Config {
		c := DefaultConfig()
		c.URL, c.Service.Username, c.Service.Password, c.Service.ProjectName = "http://127.0.0.1:5000/v3", "u", "p", "service"
		return c
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"good", func(*Config) {}, true},
		{"no url", func(c *Config) { c.URL = "" }, false},
		{"not http", func(c *Config) { c.URL = "ftp://x" }, false},
		{"no password", func(c *Config) { c.Service.Password = "" }, false},
		{"no project", func(c *Config) { c.Service.ProjectName = "" }, false},
		{"zero cache size", func(c *Config) { c.CacheMax = 0 }, false},
	} {
		c := good()
		tc.mod(c)
		if err := c.Validate(); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
