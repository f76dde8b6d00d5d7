package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// h2Pool opens a fleet's cellmap change streams over HTTP/2 in cleartext (h2c with prior
// knowledge), perConn streams on one connection, as etcd's benchmark puts 100 watches on one
// gRPC connection. A connection's first stream is opened alone, so that the streams after it
// find the connection made instead of dialling one each.
type h2Pool struct {
	base, token, query string
	perConn            int
	mu                 sync.Mutex
	conns              []*h2Conn
	used               int
}

// h2Conn is one connection's transport; ready is closed once its first stream has answered.
type h2Conn struct {
	tr    *http.Transport
	hc    *http.Client
	ready chan struct{}
}

func newH2Pool(addr, token, query string, perConn int) *h2Pool {
	return &h2Pool{base: "http://" + addr, token: token, query: query, perConn: perConn}
}

// conn returns the connection of the next stream and whether the stream is its first.
func (p *h2Pool) conn() (*h2Conn, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	first := p.used%p.perConn == 0
	if first {
		tr := &http.Transport{Protocols: new(http.Protocols), MaxIdleConnsPerHost: 1}
		tr.Protocols.SetUnencryptedHTTP2(true)
		p.conns = append(p.conns, &h2Conn{tr: tr, hc: &http.Client{Transport: tr}, ready: make(chan struct{})})
	}
	p.used++
	return p.conns[len(p.conns)-1], first
}

// open sends one watch request on its connection.
func (p *h2Pool) open(ctx context.Context) (FleetStream, error) {
	c, first := p.conn()
	if first {
		defer close(c.ready)
	} else {
		select {
		case <-c.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, p.base+"/v1/watch?"+p.query, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	hdr := time.AfterFunc(30*time.Second, cancel) // the headers must come within 30 s
	resp, err := c.hc.Do(req)
	if !hdr.Stop() || err != nil {
		cancel()
		if err == nil {
			resp.Body.Close()
			err = context.DeadlineExceeded
		}
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("watch: %s over %s, want 200 over HTTP/2", resp.Status, resp.Proto)
	}
	return &h2Stream{reader: reader{br: bufio.NewReaderSize(resp.Body, 4096)}, cancel: cancel, body: resp.Body.Close}, nil
}

// close ends every connection.
func (p *h2Pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.tr.CloseIdleConnections()
	}
}

// h2Stream is one change stream on a shared connection.
type h2Stream struct {
	reader
	cancel context.CancelFunc
	body   func() error
}

func (s *h2Stream) Close() {
	s.cancel()
	_ = s.body()
}
