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
	// Latency is the histogram of probe latencies (µs), for the driver to merge.
	Latency *hdrhistogram.Snapshot `json:"latency"`
}

type fleet struct {
	addr, token, query string
	connected, failed  atomic.Int64
	probes             atomic.Int64
	mu                 sync.Mutex
	hist               *Histogram
}

// FleetCommand runs a fleet: it opens --watchers streams, prints {"ready":N} when they are
// open, keeps them until stdin closes (or --max passes), then prints a FleetReport.
func FleetCommand(ctx context.Context, prog string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(prog+" watch-fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8480", "the node's HTTP address (loopback)")
	tokenFile := fs.String("token-file", "", "file holding the bearer token")
	query := fs.String("query", "kinds=cells", "the watch query")
	n := fs.Int("watchers", 1000, "streams to hold")
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
	ctx, cancel := context.WithTimeout(ctx, *limit)
	defer cancel()
	f := &fleet{addr: *addr, token: token, query: *query, hist: NewHistogram()}
	var wg sync.WaitGroup
	ready := make(chan struct{}, *n)
	sem := make(chan struct{}, 32) // connections being opened at once
	for range *n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.watch(ctx, sem, ready)
		}()
	}
	for range *n {
		<-ready
	}
	json.NewEncoder(stdout).Encode(map[string]int64{"ready": f.connected.Load(), "failed": f.failed.Load()})
	go func() { // the driver closes stdin to end the fleet
		_, _ = io.Copy(io.Discard, stdin)
		cancel()
	}()
	<-ctx.Done()
	wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	rep := FleetReport{Connected: f.connected.Load(), Failed: f.failed.Load(), Probes: f.probes.Load(), Latency: f.hist.h.Export()}
	if err := json.NewEncoder(stdout).Encode(&rep); err != nil {
		return 1
	}
	return 0
}

// watch holds one stream until ctx ends; ready gets one value once it is open or failed.
func (f *fleet) watch(ctx context.Context, sem chan struct{}, ready chan<- struct{}) {
	sem <- struct{}{}
	conn, br, err := f.open(ctx)
	<-sem
	if err != nil {
		f.failed.Add(1)
		ready <- struct{}{}
		return
	}
	f.connected.Add(1)
	ready <- struct{}{}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return
		}
		if i := bytes.Index(line, probeMarker); i >= 0 {
			f.probe(line[i+len(probeMarker):])
		}
	}
}

func (f *fleet) probe(rest []byte) {
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return
	}
	sent, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	if err != nil {
		return
	}
	lat := time.Duration(time.Now().UnixNano() - sent)
	f.probes.Add(1)
	f.mu.Lock()
	f.hist.Record(lat)
	f.mu.Unlock()
}

// open sends the watch request on a raw connection and returns a reader of the decoded body.
func (f *fleet) open(ctx context.Context) (net.Conn, *bufio.Reader, error) {
	var d net.Dialer
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := d.DialContext(cctx, "tcp", f.addr)
	if err != nil {
		return nil, nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	req := fmt.Sprintf("GET /v1/watch?%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", f.query, f.addr, f.token)
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 4096), nil)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		conn.Close()
		return nil, nil, fmt.Errorf("watch: %s", resp.Status)
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, bufio.NewReaderSize(resp.Body, 4096), nil
}
