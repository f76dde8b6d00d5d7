package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/cellmap/cellmap/api"
)

// A watch fleet is one process of the watch benchmark's load generator (watchbench.go): it
// holds many change streams open on one node with as little memory as it can (one goroutine
// and two 4 KiB buffers per stream), and records for every probe line a stream receives how
// long after the probe's write was sent it arrived. Probes carry their send time in the
// record: a cell named ProbePrefix + unix nanoseconds (the fleet and the writer share the
// machine's clock).

// ProbePrefix starts the name of a probe cell.
const ProbePrefix = "p-"

var probeMarker = []byte(`"name":"` + ProbePrefix)

// FleetReport is what a fleet prints when it ends.
type FleetReport struct {
	Connected int64 `json:"connected"`
	Failed    int64 `json:"failed"`
	Probes    int64 `json:"probes"`
	// Latency is the histogram of probe latencies (µs), for the driver to merge; ByProbe the
	// same per probe, keyed by its send time (watchack.go).
	Latency *hdrhistogram.Snapshot            `json:"latency"`
	ByProbe map[string]*hdrhistogram.Snapshot `json:"by_probe,omitempty"`
}

// FleetStream is one open change stream of a fleet.
type FleetStream interface {
	// NextProbe blocks until the stream delivers a probe and returns the probe's send time
	// (unix ns), or fails when the stream ends.
	NextProbe() (int64, error)
	Close()
}

// fleet holds the streams of one fleet process.
type fleet struct {
	connected, failed atomic.Int64
	probes            atomic.Int64
	mu                sync.Mutex
	hist              *Histogram
	byProbe           probeHists
}

// FleetCommand runs a fleet of cellmap change streams (see ServeFleet).
func FleetCommand(ctx context.Context, prog string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(prog+" watch-fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8480", "the node's HTTP address (loopback)")
	tokenFile := fs.String("token-file", "", "file holding the bearer token")
	query := fs.String("query", "kinds=cells", "the watch query")
	n := fs.Int("watchers", 1000, "streams to hold")
	perConn := fs.Int("watches-per-conn", 1, "streams on one connection: 1 is one HTTP/1.1 connection each, more share HTTP/2 connections (h2c)")
	perReq := fs.Int("watches-per-request", 1, "watches on one POST /v1/watch stream (an HTTP/1.1 connection each); more than 1 excludes --watches-per-conn")
	limit := fs.Duration("max", 5*time.Minute, "end after this even if stdin stays open")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := CheckLoopback(*addr); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 2
	}
	token, err := readToken(*tokenFile)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 2
	}
	if *perConn < 1 || *perConn > 1000 {
		fmt.Fprintf(stderr, "%s: --watches-per-conn must be from 1 to 1000 (cellmapd's --http2-max-streams)\n", prog)
		return 2
	}
	if *perReq < 1 || *perReq > api.MaxWatchesPerRequest || (*perReq > 1 && *perConn > 1) {
		fmt.Fprintf(stderr, "%s: --watches-per-request must be from 1 to %d, and 1 with --watches-per-conn\n", prog, api.MaxWatchesPerRequest)
		return 2
	}
	open := func(ctx context.Context) (FleetStream, error) { return openCellmapStream(ctx, *addr, token, *query) }
	if *perReq > 1 {
		mux, streams, err := newMuxOpener(*addr, token, *query, *n, *perReq)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prog, err)
			return 2
		}
		return ServeFleet(ctx, streams, *limit, stdin, stdout, mux.open)
	}
	if *perConn > 1 {
		pool := newH2Pool(*addr, token, *query, *perConn)
		defer pool.close()
		open = pool.open
	}
	return ServeFleet(ctx, *n, *limit, stdin, stdout, open)
}

// ServeFleet opens n streams (32 at a time), prints {"ready":N,"failed":M} once they are
// open (counting the watches of a stream that says how many it holds), holds them until stdin
// closes (the driver ends the fleet) or limit passes, then prints a FleetReport.
func ServeFleet(ctx context.Context, n int, limit time.Duration, stdin io.Reader, stdout io.Writer, open func(context.Context) (FleetStream, error)) int {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	f := &fleet{hist: NewHistogram()}
	var wg sync.WaitGroup
	ready := make(chan struct{}, n)
	sem := make(chan struct{}, 32)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.hold(ctx, sem, ready, open)
		}()
	}
	for range n {
		<-ready
	}
	json.NewEncoder(stdout).Encode(map[string]int64{"ready": f.connected.Load(), "failed": f.failed.Load()})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		cancel()
	}()
	<-ctx.Done()
	wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	rep := FleetReport{Connected: f.connected.Load(), Failed: f.failed.Load(), Probes: f.probes.Load(), Latency: f.hist.h.Export(),
		ByProbe: f.byProbe.export()}
	if err := json.NewEncoder(stdout).Encode(&rep); err != nil {
		return 1
	}
	return 0
}

// hold opens one stream and records its probes until ctx ends.
func (f *fleet) hold(ctx context.Context, sem chan struct{}, ready chan<- struct{}, open func(context.Context) (FleetStream, error)) {
	sem <- struct{}{}
	st, err := open(ctx)
	<-sem
	if err != nil {
		f.failed.Add(1)
		ready <- struct{}{}
		return
	}
	k := int64(1)
	if m, ok := st.(interface{ Watches() int }); ok {
		k = int64(m.Watches())
	}
	f.connected.Add(k)
	ready <- struct{}{}
	stop := context.AfterFunc(ctx, st.Close)
	defer stop()
	defer st.Close()
	for {
		sent, err := st.NextProbe()
		if err != nil {
			return
		}
		lat := time.Duration(time.Now().UnixNano() - sent)
		f.probes.Add(1)
		f.mu.Lock()
		f.hist.Record(lat)
		f.mu.Unlock()
		f.byProbe.record(sent, lat)
	}
}

// ParseProbe returns the send time a probe name (ProbePrefix + unix ns) carries.
func ParseProbe(name []byte) (int64, bool) {
	if !bytes.HasPrefix(name, []byte(ProbePrefix)) {
		return 0, false
	}
	n, err := strconv.ParseInt(string(name[len(ProbePrefix):]), 10, 64)
	return n, err == nil
}

// cellmapStream is a change stream on a raw connection: one goroutine (the fleet's) and two
// 4 KiB buffers.
type cellmapStream struct {
	reader
	conn net.Conn
}

func (c *cellmapStream) Close() { c.conn.Close() }

// reader finds the probes in a stream's lines.
type reader struct {
	br *bufio.Reader
}

func (c *reader) NextProbe() (int64, error) {
	for {
		line, err := c.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return 0, err
		}
		i := bytes.Index(line, probeMarker)
		if i < 0 {
			continue
		}
		rest := line[i+len(probeMarker)-len(ProbePrefix):]
		if end := bytes.IndexByte(rest, '"'); end > 0 {
			if sent, ok := ParseProbe(rest[:end]); ok {
				return sent, nil
			}
		}
	}
}

// openCellmapStream sends the watch request on a raw connection.
func openCellmapStream(ctx context.Context, addr, token, query string) (FleetStream, error) {
	req := fmt.Sprintf("GET /v1/watch?%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", query, addr, token)
	return dialStream(ctx, addr, req, 4096)
}

// dialStream sends a watch request (head and body, as written) on a new connection to addr
// and returns the stream once a 200 answer has come, read through a buffer of bufSize.
func dialStream(ctx context.Context, addr, req string, bufSize int) (*cellmapStream, error) {
	var d net.Dialer
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := d.DialContext(cctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 4096), nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		conn.Close()
		return nil, fmt.Errorf("watch: %s", resp.Status)
	}
	_ = conn.SetDeadline(time.Time{})
	return &cellmapStream{conn: conn, reader: reader{br: bufio.NewReaderSize(resp.Body, bufSize)}}, nil
}
