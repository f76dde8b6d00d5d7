package identity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// cheap are test hash costs (the API checks whatever costs a stored hash names).
var cheap = acl.HashParams{Time: 1, MemoryKiB: 64, Threads: 1}

// addUser stores a user with password and roles directly in the replicated state.
func addUser(t *testing.T, dp *testcluster.DataPlane, name, password string, roles map[string]string) string {
	t.Helper()
	hash, err := acl.HashPassword(password, cheap)
	if err != nil {
		t.Fatal(err)
	}
	u := fsm.User{ID: api.NewUUID(), Name: name, Domain: fsm.DefaultDomain, PasswordHash: hash, Roles: roles}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if res, err := dp.Node.Node.Apply(ctx, &fsm.CreateUser{User: u}); err != nil || res.Err != nil {
		t.Fatalf("create user %s: %v %v", name, err, res)
	}
	return u.ID
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// call makes one request: token goes in X-Auth-Token, subject in X-Subject-Token.
func call(t *testing.T, method, url, token, subject string, body any) reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(ctx, method, url, rd)
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if subject != "" {
		req.Header.Set("X-Subject-Token", subject)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	json.Unmarshal(raw, &out.body)
	return out
}

// passwordAuth is Keystone's password request body: user by name in domain (or by id when
// domain is nil), scope as given (nil: none).
func passwordAuth(user, password string, domain map[string]string, scope any) map[string]any {
	u := map[string]any{"password": password}
	if domain == nil {
		u["id"] = user
	} else {
		u["name"], u["domain"] = user, domain
	}
	auth := map[string]any{"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": u}}}
	if scope != nil {
		auth["scope"] = scope
	}
	return map[string]any{"auth": auth}
}

func projectScope(name string) map[string]any {
	return map[string]any{"project": map[string]any{"name": name, "domain": map[string]string{"name": "Default"}}}
}

// get digs a value out of a decoded JSON body by keys.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// TestVersionDiscovery: /identity answers Keystone's 300 list of versions and /identity/v3
// its v3 document, both public (no token), with links at the address the client used.
func TestVersionDiscovery(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	root := call(t, http.MethodGet, dp.URL+"/identity", "", "", nil)
	values, _ := get(root.body, "versions", "values").([]any)
	if root.status != http.StatusMultipleChoices || len(values) != 1 || get(values[0], "id") != "v3.14" {
		t.Fatalf("/identity: %d %s", root.status, root.raw)
	}
	v3 := call(t, http.MethodGet, dp.URL+"/identity/v3", "", "", nil)
	links, _ := get(v3.body, "version", "links").([]any)
	if v3.status != http.StatusOK || get(v3.body, "version", "status") != "stable" || len(links) != 1 ||
		get(links[0], "href") != dp.URL+"/identity/v3/" {
		t.Fatalf("/identity/v3: %d %s", v3.status, v3.raw)
	}
}

// TestPasswordAuth: POST /identity/v3/auth/tokens is public. A user's password gets a token
// of its role on the project it scopes to (by project name or id, user by name or id), in
// X-Subject-Token, with Keystone's token body and catalog; the token works on the compute API
// with that role (a project reader may list servers, and is refused a create that needs the
// service role). An admin gets a system-scoped admin token.
func TestPasswordAuth(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	aliceID := addUser(t, dp, "alice", "alice-pw", map[string]string{"demo": "service", "other": "reader"})
	addUser(t, dp, "root", "root-pw", map[string]string{"admin": "admin"})
	url := dp.URL + "/identity/v3/auth/tokens"

	start := time.Now()
	r := call(t, http.MethodPost, url, "", "", passwordAuth("alice", "alice-pw", map[string]string{"name": "Default"}, projectScope("demo")))
	secret := r.header.Get("X-Subject-Token")
	if r.status != http.StatusCreated || !acl.WellFormed(secret) || strings.Contains(r.raw, secret) {
		t.Fatalf("alice on demo: %d %q %s", r.status, secret, r.raw)
	}
	tok := get(r.body, "token")
	if !reflect.DeepEqual(get(tok, "methods"), []any{"password"}) || get(tok, "user", "id") != aliceID ||
		get(tok, "user", "name") != "alice" || get(tok, "user", "domain", "id") != "default" ||
		get(tok, "project", "id") != "demo" || get(tok, "project", "name") != "demo" ||
		get(tok, "project", "domain", "name") != "Default" {
		t.Fatalf("token body: %s", r.raw)
	}
	roles := map[any]bool{}
	for _, role := range get(tok, "roles").([]any) {
		roles[get(role, "name")] = true
	}
	if !roles["service"] || !roles["reader"] || roles["admin"] || roles["operator"] {
		t.Errorf("roles %v, want service and the reader it includes", roles)
	}
	expires, err1 := time.Parse(time.RFC3339Nano, get(tok, "expires_at").(string))
	issued, err2 := time.Parse(time.RFC3339Nano, get(tok, "issued_at").(string))
	// The expiry is set before the token is proposed, issued_at is when the log stamped it.
	if lifetime := expires.Sub(issued); err1 != nil || err2 != nil || lifetime > time.Hour || lifetime < 59*time.Minute ||
		issued.Before(start.Add(-time.Second)) {
		t.Errorf("issued %v expires %v (%v %v), want an hour's lifetime from now", issued, expires, err1, err2)
	}
	want := map[string]string{"compute": dp.URL + "/compute/v2.1", "image": dp.URL + "/image", "identity": dp.URL + "/identity/v3"}
	for _, e := range get(tok, "catalog").([]any) {
		eps := get(e, "endpoints").([]any)
		if len(eps) != 3 || get(eps[0], "url") != want[get(e, "type").(string)] || get(eps[0], "region") != "RegionOne" {
			t.Errorf("catalog entry %v", e)
		}
		delete(want, get(e, "type").(string))
	}
	if len(want) != 0 {
		t.Errorf("catalog lacks %v", want)
	}
	if c := call(t, http.MethodGet, dp.URL+"/compute/v2.1/servers", secret, "", nil); c.status != http.StatusOK {
		t.Fatalf("alice's token on the compute API: %d %s", c.status, c.raw)
	}

	// By user id and project id: the reader role on "other".
	r = call(t, http.MethodPost, url, "", "", passwordAuth(aliceID, "alice-pw", nil, map[string]any{"project": map[string]string{"id": "other"}}))
	reader := r.header.Get("X-Subject-Token")
	if r.status != http.StatusCreated || get(r.body, "token", "project", "id") != "other" {
		t.Fatalf("alice by id on other: %d %s", r.status, r.raw)
	}
	if c := call(t, http.MethodGet, dp.URL+"/compute/v2.1/servers", reader, "", nil); c.status != http.StatusOK {
		t.Fatalf("reader lists: %d %s", c.status, c.raw)
	}
	create := `{"server": {"name": "vm", "flavorRef": "1", "imageRef": "cirros", "networks": "none"}}`
	if c := call(t, http.MethodPost, dp.URL+"/compute/v2.1/servers", reader, "", create); c.status != http.StatusForbidden {
		t.Fatalf("reader creates a server: %d %s, want 403", c.status, c.raw)
	}

	// An admin: system scope, or its project; the token is cloud-wide either way.
	for _, scope := range []any{map[string]any{"system": map[string]bool{"all": true}}, projectScope("admin"), nil} {
		r = call(t, http.MethodPost, url, "", "", passwordAuth("root", "root-pw", map[string]string{"id": "default"}, scope))
		admin := r.header.Get("X-Subject-Token")
		if r.status != http.StatusCreated {
			t.Fatalf("root %v: %d %s", scope, r.status, r.raw)
		}
		if c := call(t, http.MethodGet, dp.URL+"/v1/acl/token/self", admin, "", nil); get(c.body, "role") != "admin" || get(c.body, "project_id") != nil {
			t.Fatalf("root's token %v: %s, want an unscoped admin token", scope, c.raw)
		}
	}
	// alice is no admin: no system scope, and no access to a project she has no role on.
	for _, scope := range []any{map[string]any{"system": map[string]bool{"all": true}}, projectScope("admin"), nil} {
		if r = call(t, http.MethodPost, url, "", "", passwordAuth("alice", "alice-pw", map[string]string{"name": "Default"}, scope)); r.status != http.StatusUnauthorized {
			t.Fatalf("alice %v: %d %s, want 401", scope, r.status, r.raw)
		}
	}
}

// TestAuthRefusals: a wrong password, an unknown user and an unknown domain get the same 401
// body (no user enumeration) and create no token; bad requests are 400.
func TestAuthRefusals(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	addUser(t, dp, "alice", "alice-pw", map[string]string{"demo": "service"})
	url := dp.URL + "/identity/v3/auth/tokens"
	def := map[string]string{"name": "Default"}
	wantBody := `{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`
	for name, body := range map[string]any{
		"wrong password": passwordAuth("alice", "alice-PW", def, projectScope("demo")),
		"unknown user":   passwordAuth("bob", "alice-pw", def, projectScope("demo")),
		"unknown id":     passwordAuth(api.NewUUID(), "alice-pw", nil, projectScope("demo")),
		"other domain":   passwordAuth("alice", "alice-pw", map[string]string{"name": "Other"}, projectScope("demo")),
		"empty password": passwordAuth("alice", "", def, projectScope("demo")),
	} {
		r := call(t, http.MethodPost, url, "", "", body)
		if r.status != http.StatusUnauthorized || strings.TrimSpace(r.raw) != wantBody || r.header.Get("X-Subject-Token") != "" {
			t.Errorf("%s: %d %s, want 401 %s", name, r.status, r.raw, wantBody)
		}
	}
	for name, body := range map[string]any{
		"not JSON":  "{",
		"no user":   `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": "x"}}}}}`,
		"no method": `{}`,
		"no domain": `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "alice", "password": "x"}}}}}`,
	} {
		if r := call(t, http.MethodPost, url, "", "", body); r.status != http.StatusBadRequest || get(r.body, "error", "code") != 400.0 {
			t.Errorf("%s: %d %s, want 400 with Keystone's body", name, r.status, r.raw)
		}
	}
	if r := call(t, http.MethodPost, url, "", "", `{"auth": {"identity": {"methods": ["token"], "token": {"id": "x"}}}}`); r.status != http.StatusUnauthorized {
		t.Errorf("token method: %d %s, want 401", r.status, r.raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	toks, err := dp.Client.Tokens(ctx)
	if err != nil || len(toks) != 1 { // the admin token of the test only
		t.Fatalf("tokens after refusals: %+v %v", toks, err)
	}
}

// TestValidateAndRevoke: GET and DELETE /identity/v3/auth/tokens need a token (none is 401
// with Keystone's body). A project reader may validate and revoke its own token and is
// refused (403) another's; an admin may validate any. A revoked token is 404 there and
// refused by the API.
func TestValidateAndRevoke(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	addUser(t, dp, "alice", "alice-pw", map[string]string{"demo": "reader"})
	url := dp.URL + "/identity/v3/auth/tokens"
	issue := func() string {
		r := call(t, http.MethodPost, url, "", "", passwordAuth("alice", "alice-pw", map[string]string{"name": "Default"}, projectScope("demo")))
		if r.status != http.StatusCreated {
			t.Fatalf("issue: %d %s", r.status, r.raw)
		}
		return r.header.Get("X-Subject-Token")
	}
	mine, second := issue(), issue()
	if r := call(t, http.MethodGet, url, "", mine, nil); r.status != http.StatusUnauthorized || get(r.body, "error", "title") != "Unauthorized" {
		t.Fatalf("validate without a token: %d %s", r.status, r.raw)
	}
	r := call(t, http.MethodGet, url, mine, mine, nil)
	if r.status != http.StatusOK || r.header.Get("X-Subject-Token") != mine || get(r.body, "token", "user", "name") != "alice" {
		t.Fatalf("validate own: %d %s", r.status, r.raw)
	}
	if r := call(t, http.MethodGet, url, mine, second, nil); r.status != http.StatusForbidden {
		t.Fatalf("a reader validates another token: %d %s, want 403", r.status, r.raw)
	}
	if r := call(t, http.MethodDelete, url, mine, second, nil); r.status != http.StatusForbidden {
		t.Fatalf("a reader revokes another token: %d %s, want 403", r.status, r.raw)
	}
	if r := call(t, http.MethodGet, url, testkit.AdminToken, second, nil); r.status != http.StatusOK || get(r.body, "token", "project", "id") != "demo" {
		t.Fatalf("admin validates: %d %s", r.status, r.raw)
	}
	if r := call(t, http.MethodDelete, url, mine, mine, nil); r.status != http.StatusNoContent {
		t.Fatalf("revoke own: %d %s", r.status, r.raw)
	}
	if r := call(t, http.MethodGet, url, testkit.AdminToken, mine, nil); r.status != http.StatusNotFound {
		t.Fatalf("validate revoked: %d %s, want 404", r.status, r.raw)
	}
	if r := call(t, http.MethodGet, dp.URL+"/compute/v2.1/servers", mine, "", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("revoked token on the compute API: %d %s, want 401", r.status, r.raw)
	}
	if r := call(t, http.MethodGet, url, testkit.AdminToken, "cm_not-a-token", nil); r.status != http.StatusNotFound {
		t.Fatalf("validate garbage: %d %s, want 404", r.status, r.raw)
	}
}

// TestCatalogOverTLS: behind TLS the version links and the catalog's endpoints are https, at
// the address the client used (POST is public; the token it returns is a project service
// token that the compute API accepts over the same connection).
func TestCatalogOverTLS(t *testing.T) {
	pki := testcluster.NewPKI(t)
	dp := testcluster.StartDataPlane(t, &testcluster.DataPlaneOptions{PKI: pki})
	addUser(t, dp, "alice", "alice-pw", map[string]string{"demo": "service"})
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientTLS(t, "")}}
	defer hc.CloseIdleConnections()
	base := "https://" + dp.Addr
	b, _ := json.Marshal(passwordAuth("alice", "alice-pw", map[string]string{"name": "Default"}, projectScope("demo")))
	resp, err := hc.Post(base+"/identity/v3/auth/tokens", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("auth over TLS: %d %v", resp.StatusCode, body)
	}
	for _, e := range get(body, "token", "catalog").([]any) {
		for _, ep := range get(e, "endpoints").([]any) {
			if url := get(ep, "url").(string); !strings.HasPrefix(url, base+"/") {
				t.Errorf("endpoint %s, want it under %s", url, base)
			}
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/compute/v2.1/servers", nil)
	req.Header.Set("X-Auth-Token", resp.Header.Get("X-Subject-Token"))
	got, err := hc.Do(req)
	if err != nil || got.StatusCode != http.StatusOK {
		t.Fatalf("the token on the compute API over TLS: %v %v", got, err)
	}
	got.Body.Close()
	v, err := hc.Get(base + "/identity/v3")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.NewDecoder(v.Body).Decode(&doc)
	v.Body.Close()
	if links, _ := get(doc, "version", "links").([]any); len(links) != 1 || get(links[0], "href") != base+"/identity/v3/" {
		t.Fatalf("version links over TLS: %v", doc)
	}
}
