package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/cellmap/cellmap/api"
)

// POST /v1/watch serves the watches of an api.WatchRequest on one stream, as etcd serves
// many watches on one gRPC stream. Each watch has the filters and since of GET /v1/watch;
// its event lines and its final error line carry its id as watch_id, and a progress line
// (no watch_id) speaks for every watch still open. A watch whose since the node no longer
// serves ends alone with a compacted error line while the others go on; a slow stream cuts
// every watch (one slow_consumer line each), since they share its connection. The stream
// ends when its last watch has. Each watch counts against --watch-max-watchers.
//
// One goroutine serves the whole stream: a change is rendered once, and every watch it
// matches gets the same line with its id spliced in, all in one write.

// watchManyMaxBody bounds the request: MaxWatchesPerRequest watches with filters.
const watchManyMaxBody = 1 << 20

func (s *Service) watchMany(w http.ResponseWriter, r *http.Request) {
	wr, err := s.parseWatchMany(w, r)
	s.serveWatch(w, r, wr, err)
}

// parseWatchMany reads the request's body (within the request timeout: the stream itself has
// none) and parses its watches.
func (s *Service) parseWatchMany(w http.ResponseWriter, r *http.Request) (*watchRequest, error) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.RequestTimeout))
	var in api.WatchRequest
	if err := decode(w, r, min(s.cfg.MaxBodyBytes, watchManyMaxBody), &in); err != nil {
		return nil, err
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	n := len(in.Watches)
	if n == 0 || n > api.MaxWatchesPerRequest {
		return nil, invalidf("watches must hold 1 to %d watches, not %d", api.MaxWatchesPerRequest, n)
	}
	wr := &watchRequest{many: true, watches: make([]*watchOne, 0, n)}
	seen := make(map[string]bool, n)
	for i, spec := range in.Watches {
		if msg := watchIDProblem(spec.ID); msg != "" {
			return nil, invalidf("watches[%d]: %s", i, msg)
		}
		if seen[spec.ID] {
			return nil, invalidf("watches[%d]: id %q is used twice", i, spec.ID)
		}
		seen[spec.ID] = true
		wo := &watchOne{id: spec.ID, prefix: []byte(`{"watch_id":` + strconv.Quote(spec.ID) + `,`)}
		if spec.Since != nil {
			wo.since, wo.sinceGiven = *spec.Since, true
		}
		if err := wo.filters(r, spec.Kinds, spec.ProjectID, spec.CellUUID); err != nil {
			return nil, fmt.Errorf("watches[%d] (%s): %w", i, spec.ID, err)
		}
		wr.watches = append(wr.watches, wo)
	}
	return wr, wr.options(in.Consistency, in.ProgressInterval)
}

// watchIDProblem says what is wrong with a watch's id ("" when nothing): it holds letters,
// digits, '.', '_' and '-' only, so that it goes into every line as it is.
func watchIDProblem(id string) string {
	if id == "" || len(id) > api.MaxWatchIDLen {
		return fmt.Sprintf("id must be 1 to %d characters", api.MaxWatchIDLen)
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Sprintf("id %q may hold only letters, digits, '.', '_' and '-'", id)
		}
	}
	return ""
}
