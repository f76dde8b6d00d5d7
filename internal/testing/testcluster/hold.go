package testcluster

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// gate holds the requests that reach a conductor while it is closed: a cell that takes
// requests and answers none, as a stuck conductor does.
type gate struct {
	mu      sync.Mutex
	held    chan struct{} // nil while open
	failing string        // "METHOD /path-prefix" answered 500 without being served ("" none)
	losing  string        // method served but its answer lost: the connection is cut ("" none)
	waiting atomic.Int64
	failed  atomic.Int64
}

func (g *gate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		ch, failing, losing := g.held, g.failing, g.losing
		g.mu.Unlock()
		if losing == r.Method {
			h.ServeHTTP(discard{}, r) // served: the conductor did the work
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close() // ... and the caller never hears of it
				}
			}
			return
		}
		if method, prefix, _ := strings.Cut(failing, " "); failing != "" && method == r.Method && strings.HasPrefix(r.URL.Path, prefix) {
			g.failed.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"error":{"code":"internal","message":"injected by the test"}}`))
			return
		}
		if ch != nil {
			g.waiting.Add(1)
			select {
			case <-ch:
			case <-r.Context().Done():
			}
			g.waiting.Add(-1)
		}
		h.ServeHTTP(w, r)
	})
}

// HoldRequests makes the conductor hold every request it receives, unanswered, until the
// returned function is called (or the caller gives up).
func (c *Conductor) HoldRequests() (release func()) {
	ch := make(chan struct{})
	c.gate.mu.Lock()
	c.gate.held = ch
	c.gate.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.gate.mu.Lock()
			c.gate.held = nil
			c.gate.mu.Unlock()
			close(ch)
		})
	}
}

// HeldRequests is the number of requests the conductor holds now.
func (c *Conductor) HeldRequests() int64 { return c.gate.waiting.Load() }

// FailRequests makes the conductor answer 500 to every request of method whose path starts with
// pathPrefix, without serving it, until the returned function is called.
func (c *Conductor) FailRequests(method, pathPrefix string) (restore func()) {
	c.gate.mu.Lock()
	c.gate.failing = method + " " + pathPrefix
	c.gate.mu.Unlock()
	return func() {
		c.gate.mu.Lock()
		c.gate.failing = ""
		c.gate.mu.Unlock()
	}
}

// FailedRequests is the number of requests answered 500 by FailRequests.
func (c *Conductor) FailedRequests() int64 { return c.gate.failed.Load() }

// LoseAnswers makes the conductor serve every request of method and then cut the connection
// instead of answering, until the returned function is called: the caller cannot know the
// outcome.
func (c *Conductor) LoseAnswers(method string) (restore func()) {
	c.gate.mu.Lock()
	c.gate.losing = method
	c.gate.mu.Unlock()
	return func() {
		c.gate.mu.Lock()
		c.gate.losing = ""
		c.gate.mu.Unlock()
	}
}

// discard is a response writer that drops the answer.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
