package client

import (
	"bufio"
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

// WatchQuery selects a change stream (GET /v1/watch).
type WatchQuery struct {
	// Kinds are the kinds of records to follow (empty: all).
	Kinds []string
	// Since streams every change after this revision; SinceGiven false streams from now.
	Since      uint64
	SinceGiven bool
	// ProjectID passes that project's instance mappings only; CellUUID passes the cell and
	// the mappings in it.
	ProjectID string
	CellUUID  string
	// Linearizable makes the node catch up with the leader's commit index first.
	Linearizable bool
	// ProgressInterval asks for a progress line at least this often (0: the server's
	// default).
	ProgressInterval time.Duration
}

func (q WatchQuery) values() url.Values {
	v := url.Values{}
	if len(q.Kinds) > 0 {
		v.Set("kinds", strings.Join(q.Kinds, ","))
	}
	if q.SinceGiven {
		v.Set("since", strconv.FormatUint(q.Since, 10))
	}
	if q.ProjectID != "" {
		v.Set("project_id", q.ProjectID)
	}
	if q.CellUUID != "" {
		v.Set("cell_uuid", q.CellUUID)
	}
	if q.Linearizable {
		v.Set("consistency", api.Linearizable)
	}
	if q.ProgressInterval > 0 {
		v.Set("progress_interval", q.ProgressInterval.String())
	}
	return v
}

// ErrStreamEnded is returned by Watch when the node closed the stream without an error line
// (it shut down, or the connection broke): resume from the last revision seen.
var ErrStreamEnded = errors.New("cellmap: change stream ended")

// StreamError is a final error line of a change stream (code compacted, slow_consumer, ...).
type StreamError struct {
	Event api.WatchEvent
}

func (e *StreamError) Error() string {
	return fmt.Sprintf("cellmap: change stream ended with %s: %s", e.Event.Code, e.Event.Message)
}

// IsCompacted reports whether err says the history the caller asked for is gone (a 410
// answer or a compacted error line): list again and watch from the listing's index. It also
// returns the oldest since the node serves.
func IsCompacted(err error) (uint64, bool) {
	var se *StreamError
	if errors.As(err, &se) && se.Event.Code == api.CodeCompacted {
		return se.Event.Compacted, true
	}
	var e *Error
	if errors.As(err, &e) && e.Code == api.CodeCompacted {
		return e.Compacted, true
	}
	return 0, false
}

// Watch opens the change stream and calls fn with every line (events and progress lines) in
// order until ctx ends (it then returns ctx.Err()), fn returns an error (returned as is), the
// stream ends with an error line (*StreamError), the node closes it (ErrStreamEnded wrapping
// the read error, if any) or the node refuses it (*Error; a 410 has Code compacted and
// Compacted set). The answer's meta (its X-Cellmap-Index) is passed to opened before the
// first line, when opened is not nil.
func (c *Client) Watch(ctx context.Context, q WatchQuery, opened func(Meta), fn func(*api.WatchEvent) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/watch?"+q.values().Encode(), nil)
	if err != nil {
		return err
	}
	return c.stream(ctx, req, opened, fn, true)
}

// WatchMany opens one stream of many watches (POST /v1/watch): each watch of in has its own
// filters and since, and its lines carry its id in WatchID; progress lines (no WatchID)
// speak for every watch. fn gets every line in order, error lines too: an error line ends
// its watch only (a since no longer served answers one at once, code compacted; a stream
// that cannot keep up ends every watch with slow_consumer). It returns as Watch does, with
// ErrStreamEnded once the node has ended every watch.
func (c *Client) WatchMany(ctx context.Context, in api.WatchRequest, opened func(Meta), fn func(*api.WatchEvent) error) error {
	b, err := json.Marshal(&in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/watch", bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.stream(ctx, req, opened, fn, false)
}

// stream sends a watch request and reads its stream; errorsEnd makes an error line end it
// (*StreamError) rather than go to fn.
func (c *Client) stream(ctx context.Context, req *http.Request, opened func(Meta), fn func(*api.WatchEvent) error, errorsEnd bool) error {
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	defer resp.Body.Close()
	m := metaOf(resp)
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		err := decodeError(resp.StatusCode, data)
		var e *Error
		if errors.As(err, &e) {
			e.Compacted, _ = strconv.ParseUint(resp.Header.Get(api.HeaderCompacted), 10, 64)
		}
		return err
	}
	if opened != nil {
		opened(m)
	}
	return readStream(ctx, resp.Body, fn, errorsEnd)
}

// readStream decodes the lines of a change stream; errorsEnd: an error line ends it.
func readStream(ctx context.Context, body io.Reader, fn func(*api.WatchEvent) error, errorsEnd bool) error {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var ev api.WatchEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("cellmap: bad change stream line %.200q: %w", sc.Text(), err)
		}
		if errorsEnd && ev.Type == api.WatchTypeError {
			return &StreamError{Event: ev}
		}
		if err := fn(&ev); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: %v", ErrStreamEnded, err)
	}
	return ErrStreamEnded
}
