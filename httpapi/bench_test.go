package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// BenchmarkLookup measures the instance-mapping lookup handler (stale and linearizable) on a
// one-node cluster, without the network, with its token checked as on every request.
func BenchmarkLookup(b *testing.B) {
	n := testcluster.StartNode(b, nil)
	h := n.API.Handler()
	put := httptest.NewRequest("PUT", "/v1/instance-mappings/"+inst1, strings.NewReader(`{"project_id":"p1","user_id":"u1"}`))
	put.Header.Set("Authorization", "Bearer "+testkit.AdminToken)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, put)
	if w.Code != http.StatusOK {
		b.Fatalf("put: %d %s", w.Code, w.Body)
	}
	for _, tc := range []struct{ name, query string }{{"stale", "?consistency=stale"}, {"linearizable", ""}} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/v1/instance-mappings/"+inst1+tc.query, nil)
			req.Header.Set("Authorization", "Bearer "+testkit.AdminToken) // judged on every request
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("get: %d", w.Code)
				}
			}
		})
	}
}

// BenchmarkCreate measures a create (PUT with If-None-Match: *) through the handler on a
// one-node cluster, raft and its fsync included: the allocations of the API's share of the
// write path (-benchmem) next to the rest.
func BenchmarkCreate(b *testing.B) {
	n := testcluster.StartNode(b, nil)
	h := n.API.Handler()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		path := fmt.Sprintf("/v1/instance-mappings/bbbbbbbb-0000-4000-8000-%012d", i)
		req := httptest.NewRequest("PUT", path, strings.NewReader(`{"project_id":"p1","user_id":"u1"}`))
		req.Header.Set("Authorization", "Bearer "+testkit.AdminToken)
		req.Header.Set("If-None-Match", "*")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusCreated {
			b.Fatalf("create: %d %s", w.Code, w.Body)
		}
	}
}
