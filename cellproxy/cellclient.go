package cellproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/requestid"
	"github.com/cellmap/cellmap/transport"
)

// Conductor errors.
var (
	// errUnreachable: the conductor could not be reached; the request was not sent.
	errUnreachable = errors.New("conductor unreachable")
	// errNoValidHost: the cell has no compute host with room for the flavor.
	errNoValidHost = errors.New("no valid host in the cell")
)

// cellError is a conductor's error answer.
type cellError struct {
	status int
	code   string
	msg    string
}

func (e *cellError) Error() string {
	return fmt.Sprintf("cell answered %d %s: %s", e.status, e.code, e.msg)
}

// Unwrap returns the conductor API error of the answer's code (nil for another code).
func (e *cellError) Unwrap() error { return api.ConductorError(e.code) }

// cellClient calls the HTTP API of cell conductors (package conductor, cmd/cellconductor).
// Without TLS one pool of connections serves every cell. With TLS each cell has its own pool
// whose connections were verified to reach a conductor of that cell (its certificate carries
// cellmap://cell/<uuid>): a conductor presenting another cell's certificate fails the
// handshake, before a byte of the request is written.
type cellClient struct {
	cfg   transport.HTTPConfig
	tls   ClientTLS
	plain *http.Client

	mu     sync.Mutex
	byCell map[string]*http.Client
	obs    Observer
}

func newCellClient(cfg *transport.HTTPConfig, tls ClientTLS, obs Observer) *cellClient {
	if cfg == nil {
		cfg = transport.DefaultHTTPConfig()
	}
	c := &cellClient{cfg: *cfg, tls: tls, byCell: map[string]*http.Client{}, obs: obs}
	if tls == nil {
		c.plain = transport.NewHTTPClient(cfg)
	}
	return c
}

type cellKey struct{}

// withCell names the cell a conductor call is for; cellCall sets it.
func withCell(ctx context.Context, cellUUID string) context.Context {
	return context.WithValue(ctx, cellKey{}, cellUUID)
}

// target returns the client and base URL of a call to the conductor at addr (host:port, or
// a URL) of the cell named in ctx.
func (c *cellClient) target(ctx context.Context, addr string) (*http.Client, string, error) {
	scheme, hostport, explicit := strings.Cut(strings.TrimRight(addr, "/"), "://")
	if !explicit {
		scheme, hostport = "http", addr
		if c.tls != nil {
			scheme = "https"
		}
	}
	switch {
	case c.tls == nil && scheme == "http":
		return c.plain, "http://" + hostport, nil
	case c.tls == nil:
		return nil, "", fmt.Errorf("%w: %s needs TLS, which is not configured", errUnreachable, addr)
	case scheme != "https":
		return nil, "", fmt.Errorf("%w: TLS is configured; refusing to call %s without it", errUnreachable, addr)
	}
	cell, _ := ctx.Value(cellKey{}).(string)
	if cell == "" {
		return nil, "", fmt.Errorf("%w: no cell named for the call to %s", errUnreachable, addr)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	hc := c.byCell[cell]
	if hc == nil {
		cfg := c.cfg
		cfg.TLS = c.tls.ClientConfig("", transport.RequireIdentity(transport.CellIdentity(cell)))
		hc = transport.NewHTTPClient(&cfg)
		c.byCell[cell] = hc
	}
	return hc, "https://" + hostport, nil
}

// closeIdle closes every idle connection.
func (c *cellClient) closeIdle() {
	if c.plain != nil {
		c.plain.CloseIdleConnections()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, hc := range c.byCell {
		hc.CloseIdleConnections()
	}
}

func (c *cellClient) do(ctx context.Context, addr, method, path string, in, out any) (err error) {
	start := time.Now()
	defer func() { c.observeCall(ctx, method, path, start, err) }()
	hc, base, err := c.target(ctx, addr)
	if err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	requestid.Set(ctx, req.Header)
	resp, err := hc.Do(req)
	if err != nil && method == http.MethodGet && ctx.Err() == nil {
		// A keep-alive connection pooled before the conductor restarted fails once; a read is
		// asked again on a fresh connection before the conductor counts as failed.
		resp, err = hc.Do(req.Clone(ctx))
	}
	if err != nil {
		var op *net.OpError
		if (errors.As(err, &op) && op.Op == "dial") || errors.Is(err, transport.ErrHandshake) || method == http.MethodGet {
			return fmt.Errorf("%w: %v", errUnreachable, err)
		}
		return fmt.Errorf("%w: %v", ErrOutcomeUnknown, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		if method == http.MethodGet {
			return fmt.Errorf("%w: %v", errUnreachable, err)
		}
		return fmt.Errorf("%w: %v", ErrOutcomeUnknown, err)
	}
	if resp.StatusCode >= 300 {
		var e api.Error
		json.Unmarshal(data, &e)
		return &cellError{status: resp.StatusCode, code: e.Detail.Code, msg: e.Detail.Message}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%w: bad answer: %v", errUnreachable, err)
		}
	}
	return nil
}

func (c *cellClient) create(ctx context.Context, addr string, in api.InstanceCreate) (*api.Instance, error) {
	var out api.Instance
	err := c.do(ctx, addr, http.MethodPost, "/v1/instances", in, &out)
	if errors.Is(err, api.ErrNoValidHost) {
		return nil, fmt.Errorf("%w: %v", errNoValidHost, err)
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *cellClient) get(ctx context.Context, addr, uuid string, deleted bool) (*api.Instance, error) {
	path := "/v1/instances/" + url.PathEscape(uuid)
	if deleted {
		path += "?deleted=yes"
	}
	var out api.Instance
	if err := c.do(ctx, addr, http.MethodGet, path, nil, &out); err != nil {
		if errors.Is(err, api.ErrNotFound) {
			return nil, fmt.Errorf("instance %s: %w", uuid, ErrNotFound)
		}
		return nil, err
	}
	return &out, nil
}

func (c *cellClient) list(ctx context.Context, addr string, q url.Values) ([]api.Instance, error) {
	var out api.InstanceList
	if err := c.do(ctx, addr, http.MethodGet, "/v1/instances?"+q.Encode(), nil, &out); err != nil {
		if errors.Is(err, api.ErrMarkerNotFound) {
			return nil, fmt.Errorf("%w: %v", ErrMarkerNotFound, err)
		}
		return nil, err
	}
	return out.Instances, nil
}

func (c *cellClient) delete(ctx context.Context, addr, uuid string) error {
	err := c.do(ctx, addr, http.MethodDelete, "/v1/instances/"+url.PathEscape(uuid), nil, nil)
	if errors.Is(err, api.ErrNotFound) {
		return fmt.Errorf("instance %s: %w", uuid, ErrNotFound)
	}
	return err
}

func (c *cellClient) capacity(ctx context.Context, addr string, f api.Flavor) (*api.Capacity, error) {
	q := url.Values{"vcpus": {strconv.FormatInt(f.VCPUs, 10)}, "ram_mb": {strconv.FormatInt(f.RAMMB, 10)},
		"disk_gb": {strconv.FormatInt(f.DiskGB, 10)}}
	var out api.Capacity
	if err := c.do(ctx, addr, http.MethodGet, "/v1/capacity?"+q.Encode(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *cellClient) computeHosts(ctx context.Context, addr string, unmappedOnly bool) ([]api.ComputeHost, error) {
	path := "/v1/compute-hosts"
	if unmappedOnly {
		path += "?mapped=false"
	}
	var out api.ComputeHostList
	if err := c.do(ctx, addr, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return out.Hosts, nil
}

func (c *cellClient) setMapped(ctx context.Context, addr, host string, mapped bool) error {
	return c.do(ctx, addr, http.MethodPut, "/v1/compute-hosts/"+url.PathEscape(host)+"/mapped", api.ComputeHostMapped{Mapped: mapped}, nil)
}

func (c *cellClient) services(ctx context.Context, addr string) ([]api.Service, error) {
	var out api.ServiceList
	if err := c.do(ctx, addr, http.MethodGet, "/v1/services", nil, &out); err != nil {
		return nil, err
	}
	return out.Services, nil
}

func (c *cellClient) stats(ctx context.Context, addr string) (*api.CellStats, error) {
	var out api.CellStats
	if err := c.do(ctx, addr, http.MethodGet, "/v1/stats", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
