// Package requestid carries the id of an HTTP request (X-Request-Id) through a context: the
// API tier takes or makes one per request, a follower sends it with the write it forwards to
// the leader, and the cells data plane sends it to the conductors, so that every log line of
// one request, on every process, carries the same request_id.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/cellmap/cellmap/api"
)

// Header is the HTTP header of the request id, on requests and on answers.
const Header = api.HeaderRequestID

// LogKey is the key of the id in log lines.
const LogKey = "request_id"

// MaxLen is the longest id accepted from a client or a peer.
const MaxLen = 64

type ctxKey struct{}

// With returns ctx carrying id ("" leaves ctx as it is).
func With(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the id ctx carries ("" when none).
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Valid reports whether id may be taken from a client or a peer: 1 to MaxLen printable ASCII
// characters without spaces (it is written into log lines and headers as is).
func Valid(id string) bool {
	if id == "" || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= 0x20 || id[i] >= 0x7f {
			return false
		}
	}
	return true
}

// New returns a new random id.
func New() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "req-" + hex.EncodeToString(b[:])
}

// Of returns the id of an incoming request: its X-Request-Id when Valid, else a new one.
func Of(r *http.Request) string {
	if id := r.Header.Get(Header); Valid(id) {
		return id
	}
	return New()
}

// Set puts the id ctx carries on an outgoing request, if there is one.
func Set(ctx context.Context, h http.Header) {
	if id := From(ctx); id != "" {
		h.Set(Header, id)
	}
}
