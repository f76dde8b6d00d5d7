package keystone

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/hashicorp/go-hclog"
)

// ErrUnavailable: Keystone did not answer as it should; the request is refused with 503 and
// nothing is cached.
var ErrUnavailable = errors.New("keystone: unavailable")

// Validator turns Keystone tokens into cellmap identities.
type Validator struct {
	cfg    Config
	base   string // .../v3
	client *http.Client
	logger hclog.Logger
	now    func() time.Time

	mu         sync.Mutex
	svcToken   string
	svcExpires time.Time
	cache      map[[32]byte]*list.Element
	lru        *list.List // of *entry, most recent first
}

type entry struct {
	key   [32]byte
	id    *acl.Identity
	err   error
	until time.Time
}

// New returns a Validator of a valid configuration.
func New(cfg *Config) (*Validator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := &Validator{cfg: *cfg, client: cfg.Client, logger: cfg.Logger, now: time.Now,
		cache: map[[32]byte]*list.Element{}, lru: list.New()}
	v.base = strings.TrimSuffix(strings.TrimSuffix(cfg.URL, "/"), "/v3") + "/v3"
	if v.client == nil {
		v.client = &http.Client{Timeout: cfg.Timeout}
	}
	if v.logger == nil {
		v.logger = hclog.NewNullLogger()
	}
	return v, nil
}

// Identify validates token with Keystone (or the cache): an identity, an error wrapping
// acl.ErrUnauthenticated (unknown, revoked or expired token) or acl.ErrForbidden (no role
// cellmap maps, or a project role without a project), or one wrapping ErrUnavailable.
func (v *Validator) Identify(ctx context.Context, token string) (*acl.Identity, error) {
	key := sha256.Sum256([]byte(token))
	if id, err, ok := v.cached(key); ok {
		return id, err
	}
	id, expires, err := v.validate(ctx, token)
	if errors.Is(err, ErrUnavailable) {
		return nil, err
	}
	until := v.now().Add(v.cfg.CacheTTL)
	if err == nil && expires.Before(until) {
		until = expires
	}
	v.store(&entry{key: key, id: id, err: err, until: until})
	return id, err
}

func (v *Validator) cached(key [32]byte) (*acl.Identity, error, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	el, ok := v.cache[key]
	if !ok {
		return nil, nil, false
	}
	e := el.Value.(*entry)
	if !v.now().Before(e.until) {
		v.lru.Remove(el)
		delete(v.cache, key)
		return nil, nil, false
	}
	v.lru.MoveToFront(el)
	return e.id, e.err, true
}

func (v *Validator) store(e *entry) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if el, ok := v.cache[e.key]; ok {
		v.lru.Remove(el)
	}
	v.cache[e.key] = v.lru.PushFront(e)
	for v.lru.Len() > v.cfg.CacheMax {
		old := v.lru.Remove(v.lru.Back()).(*entry)
		delete(v.cache, old.key)
	}
}

// tokenBody is the part of Keystone's token document cellmap reads.
type tokenBody struct {
	Token struct {
		ExpiresAt time.Time `json:"expires_at"`
		User      struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"user"`
		Project *struct {
			ID string `json:"id"`
		} `json:"project"`
		Roles []struct {
			Name string `json:"name"`
		} `json:"roles"`
	} `json:"token"`
}

// validate asks Keystone about token, getting a service token first when needed; a service
// token Keystone no longer accepts is replaced once.
func (v *Validator) validate(ctx context.Context, token string) (*acl.Identity, time.Time, error) {
	for attempt := 0; ; attempt++ {
		svc, err := v.serviceToken(ctx)
		if err != nil {
			return nil, time.Time{}, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.base+"/auth/tokens", nil)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		req.Header.Set("X-Auth-Token", svc)
		req.Header.Set("X-Subject-Token", token)
		resp, err := v.client.Do(req)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch {
		case err != nil:
			return nil, time.Time{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		case resp.StatusCode == http.StatusOK:
			var tb tokenBody
			if err := json.Unmarshal(body, &tb); err != nil {
				return nil, time.Time{}, fmt.Errorf("%w: token document: %v", ErrUnavailable, err)
			}
			id, err := identityOf(&tb)
			return id, tb.Token.ExpiresAt, err
		case resp.StatusCode == http.StatusNotFound:
			return nil, time.Time{}, fmt.Errorf("%w: Keystone does not know the token (revoked or expired)", acl.ErrUnauthenticated)
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			v.dropServiceToken(svc) // ours was refused: authenticate again, once
		default:
			return nil, time.Time{}, fmt.Errorf("%w: token validation answered %d", ErrUnavailable, resp.StatusCode)
		}
	}
}

// identityOf maps Keystone's roles: admin → admin (cloud-wide, as Nova's admin), member →
// the project's service role, reader → the project's reader; the highest wins.
func identityOf(tb *tokenBody) (*acl.Identity, error) {
	t := &tb.Token
	id := &acl.Identity{AccessorID: "keystone:" + t.User.ID, Description: "keystone user " + t.User.Name,
		UserID: t.User.ID, ExpiresAt: t.ExpiresAt}
	roles := map[string]bool{}
	for _, r := range t.Roles {
		roles[strings.ToLower(r.Name)] = true
	}
	switch {
	case roles["admin"]:
		id.Role = acl.RoleAdmin
		if t.Project != nil {
			id.HomeProject = t.Project.ID
		}
		return id, nil
	case roles["member"]:
		id.Role = acl.RoleService
	case roles["reader"]:
		id.Role = acl.RoleReader
	default:
		return nil, fmt.Errorf("%w: the Keystone token has no role cellmap maps (admin, member, reader)", acl.ErrForbidden)
	}
	if t.Project == nil || t.Project.ID == "" {
		return nil, fmt.Errorf("%w: a member or reader token must be scoped to a project", acl.ErrForbidden)
	}
	id.ProjectID = t.Project.ID
	return id, nil
}

// serviceToken returns cellmap's own Keystone token, authenticating when it has none or it
// expires within a minute.
func (v *Validator) serviceToken(ctx context.Context) (string, error) {
	v.mu.Lock()
	tok, exp := v.svcToken, v.svcExpires
	v.mu.Unlock()
	if tok != "" && v.now().Add(time.Minute).Before(exp) {
		return tok, nil
	}
	c := v.cfg.Service
	body, _ := json.Marshal(map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": c.Username, "password": c.Password, "domain": map[string]string{"name": c.UserDomainName}}}},
		"scope": map[string]any{"project": map[string]any{"name": c.ProjectName, "domain": map[string]string{"name": c.ProjectDomainName}}},
	}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.base+"/auth/tokens", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: service authentication: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	var tb tokenBody
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("%w: service authentication answered %d (check the service credentials)", ErrUnavailable, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tb); err != nil {
		return "", fmt.Errorf("%w: service token document: %v", ErrUnavailable, err)
	}
	tok = resp.Header.Get("X-Subject-Token")
	v.mu.Lock()
	v.svcToken, v.svcExpires = tok, tb.Token.ExpiresAt
	v.mu.Unlock()
	v.logger.Debug("service token issued", "expires_at", tb.Token.ExpiresAt)
	return tok, nil
}

func (v *Validator) dropServiceToken(tok string) {
	v.mu.Lock()
	if v.svcToken == tok {
		v.svcToken = ""
	}
	v.mu.Unlock()
}
