// Package client is the Go client of cellmap's HTTP API, used by cellmapctl, the chaos harness,
// the benchmark and by services that look up mappings, and Cache, a local copy of mappings
// that follows the change stream. It depends only on the standard library, package api (wire
// types), package cellurl (template URLs) and hclog (the cache's logger).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cellmap/cellmap/api"
)

// Error is an answer of the API that is not a success.
type Error struct {
	Status   int
	Code     string
	Message  string
	FailedOp *int
	Cells    []string
	// Compacted, on a 410 compacted answer of the change stream, is the oldest since the
	// node serves (X-Cellmap-Compacted).
	Compacted uint64
}

func (e *Error) Error() string {
	return fmt.Sprintf("cellmap: %s (%d %s)", e.Message, e.Status, e.Code)
}

// CodeOf returns the API error code of err ("" when err is not an API error).
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// ErrUnknownOutcome wraps a transport failure after a write was sent: the write may or may not
// have happened, like an API answer with code outcome_unknown.
var ErrUnknownOutcome = errors.New("cellmap: request sent, outcome unknown")

// IsOutcomeUnknown reports whether a write's fate is unknown: an outcome_unknown answer, or a
// connection failure after the request was sent.
func IsOutcomeUnknown(err error) bool {
	return CodeOf(err) == api.CodeOutcomeUnknown || errors.Is(err, ErrUnknownOutcome)
}

// Meta is what every answer says besides its body.
type Meta struct {
	Status      int
	Index       uint64
	LastContact time.Duration // stale reads only
	Consistency string
	// RequestID is the request's id as the node answered it (X-Request-Id).
	RequestID string
}

// Client talks to one cellmap node (or a load balancer in front of several). With
// Config.LeaderWrites it sends writes straight to the leader the node names. It is safe for
// concurrent use.
type Client struct {
	base  string
	http  *http.Client
	token string
	// route, with Config.LeaderWrites, is what the client knows of the leader (nil: off).
	route *leaderRoute
}

// WithToken returns a client of the same node and connections that sends token.
func (c *Client) WithToken(token string) *Client {
	cc := *c
	cc.token = token
	return &cc
}

// New returns a client of the node at addr ("host:port", "http://host:port" or
// "https://host:port" with the system roots; see NewWithConfig for a cluster CA and client
// certificates). hc may be nil for a keep-alive client with no overall timeout (use contexts).
func New(addr string, hc *http.Client) *Client {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	if hc == nil {
		hc = &http.Client{Transport: newTransport(nil, false)}
	}
	return &Client{base: strings.TrimRight(addr, "/"), http: hc}
}

// At returns a client of another node (host:port) reached the way this one is: the same
// scheme, TLS settings, connections and token.
func (c *Client) At(addr string) *Client {
	scheme, _, _ := strings.Cut(c.base, "://")
	cc := *c
	cc.base = scheme + "://" + strings.TrimRight(addr, "/")
	return &cc
}

// Close releases the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Addr is the node's base URL.
func (c *Client) Addr() string { return c.base }

// Do sends a request with an optional JSON body and decodes a JSON answer into out (when not
// nil). It returns the answer's Meta even on API errors. With Config.LeaderWrites a write
// goes to the leader when the client knows it, and to the client's own endpoint when it does
// not, or when the leader provably did not get it (it could not be connected to, or knew no
// leader); a write whose outcome is unknown is never sent twice.
func (c *Client) Do(ctx context.Context, method, path string, hdr http.Header, in, out any) (Meta, error) {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return Meta{}, err
		}
		body = b
	}
	if c.route != nil && routed(method, path) {
		if leader := c.route.current(); leader != "" && leader != c.base {
			m, again, err := c.send(ctx, leader, method, path, hdr, body, in != nil, out)
			if !again || ctx.Err() != nil {
				return m, err
			}
			c.route.forget(leader)
		}
	}
	m, _, err := c.send(ctx, c.base, method, path, hdr, body, in != nil, out)
	return m, err
}

// send sends one request to the node at base. again reports whether the request provably did
// not change anything there, so that it may be sent to another node: it never reached the
// node (no connection), or the node answered that it knew no leader.
func (c *Client) send(ctx context.Context, base, method, path string, hdr http.Header, body []byte, isJSON bool, out any) (m Meta, again bool, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return Meta{}, false, err
	}
	if isJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	c.authorize(req)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if notSent(err) {
			return Meta{}, true, err
		}
		if method != http.MethodGet {
			return Meta{}, false, fmt.Errorf("%w: %v", ErrUnknownOutcome, err)
		}
		return Meta{}, false, err
	}
	defer resp.Body.Close()
	if c.route != nil {
		c.route.observe(resp.Header)
	}
	m = metaOf(resp)
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		if method != http.MethodGet {
			return m, false, fmt.Errorf("%w: %v", ErrUnknownOutcome, err)
		}
		return m, false, err
	}
	if resp.StatusCode >= 300 {
		err := decodeError(resp.StatusCode, data)
		return m, definitelyNotDone(err), err
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return m, false, fmt.Errorf("cellmap: bad answer to %s %s: %w", method, path, err)
		}
	}
	return m, false, nil
}

// Leader is the base URL of the leader's API as the client last learnt it ("" when unknown,
// or without Config.LeaderWrites).
func (c *Client) Leader() string {
	if c.route == nil {
		return ""
	}
	return c.route.current()
}

func metaOf(resp *http.Response) Meta {
	m := Meta{Status: resp.StatusCode, Consistency: resp.Header.Get(api.HeaderConsistency), RequestID: resp.Header.Get(api.HeaderRequestID)}
	m.Index, _ = strconv.ParseUint(resp.Header.Get(api.HeaderIndex), 10, 64)
	if v := resp.Header.Get(api.HeaderLastContact); v != "" {
		ms, _ := strconv.ParseInt(v, 10, 64)
		m.LastContact = time.Duration(ms) * time.Millisecond
	}
	return m
}

func decodeError(status int, data []byte) error {
	var e api.Error
	if err := json.Unmarshal(data, &e); err != nil || e.Detail.Code == "" {
		return &Error{Status: status, Code: "http_" + strconv.Itoa(status), Message: strings.TrimSpace(string(data))}
	}
	return &Error{Status: status, Code: e.Detail.Code, Message: e.Detail.Message, FailedOp: e.Detail.FailedOp, Cells: e.Detail.Cells}
}

// ReadOption selects a read's consistency.
type ReadOption func(url.Values)

// Stale reads the answering node's local state; maxStale > 0 bounds its age (older data is
// served linearizably instead).
func Stale(maxStale time.Duration) ReadOption {
	return func(v url.Values) {
		v.Set("consistency", api.Stale)
		if maxStale > 0 {
			v.Set("max_stale", maxStale.String())
		}
	}
}

// withQuery appends a query to path.
func withQuery(path string, v url.Values, opts []ReadOption) string {
	if v == nil {
		v = url.Values{}
	}
	for _, o := range opts {
		o(v)
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// authorize sets the client's token on req, if it has one.
func (c *Client) authorize(req *http.Request) {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
}
