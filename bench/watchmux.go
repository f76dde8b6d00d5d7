package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/cellmap/cellmap/api"
)

// A fleet with --watches-per-request k opens its cellmap watches k at a time, each group as
// one POST /v1/watch stream on an HTTP/1.1 connection of its own: every event line is one
// watch's delivery, so a probe arrives k times on the connection (watch_id tells them apart;
// the fleet only counts them).

// muxOpener hands out the fleet's watches to POST streams of at most perReq watches.
type muxOpener struct {
	addr, token string
	spec        api.WatchSpec
	perReq      int
	// progress is the streams' progress_interval ("": the node's default).
	progress string
	mu       sync.Mutex
	left     int
}

// newMuxOpener returns the opener of n watches with the filters and progress interval of
// query (GET /v1/watch's parameters) and the number of streams to open.
func newMuxOpener(addr, token, query string, n, perReq int) (*muxOpener, int, error) {
	v, err := url.ParseQuery(query)
	if err != nil {
		return nil, 0, fmt.Errorf("--query: %w", err)
	}
	spec := api.WatchSpec{ProjectID: v.Get("project_id"), CellUUID: v.Get("cell_uuid")}
	if k := v.Get("kinds"); k != "" {
		spec.Kinds = strings.Split(k, ",")
	}
	m := &muxOpener{addr: addr, token: token, spec: spec, perReq: perReq, left: n, progress: v.Get("progress_interval")}
	return m, (n + perReq - 1) / perReq, nil
}

// open sends one POST stream with the next group of watches.
func (m *muxOpener) open(ctx context.Context) (FleetStream, error) {
	m.mu.Lock()
	k := min(m.perReq, m.left)
	m.left -= k
	m.mu.Unlock()
	req := api.WatchRequest{Watches: make([]api.WatchSpec, k), ProgressInterval: m.progress}
	for i := range req.Watches {
		req.Watches[i] = m.spec
		req.Watches[i].ID = fmt.Sprint(i)
	}
	body, _ := json.Marshal(&req)
	head := fmt.Sprintf("POST /v1/watch HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", m.addr, m.token, len(body))
	st, err := dialStream(ctx, m.addr, head+string(body), 64<<10)
	if err != nil {
		return nil, err
	}
	return &muxStream{cellmapStream: *st, watches: k}, nil
}

// muxStream is one POST stream: its probe lines are deliveries to its watches.
type muxStream struct {
	cellmapStream
	watches int
}

// Watches is how many watches the stream holds (the fleet counts them as streams).
func (s *muxStream) Watches() int { return s.watches }
