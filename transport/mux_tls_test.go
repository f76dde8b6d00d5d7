package transport_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellmap/cellmap/transport"
)

// tlsMux serves a mux over TLS as a node does: node certificates only. It counts the RPC
// requests that reach its handler.
func tlsMux(t *testing.T, p *testPKI) (*transport.Mux, *atomic.Int64) {
	t.Helper()
	srv := p.reloader(t, transport.NodeIdentity("n1"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	rpc := map[byte]transport.RPCHandler{transport.ProtoApply: func(_ context.Context, req []byte) []byte {
		calls.Add(1)
		return append([]byte("ok:"), req...)
	}}
	tln := transport.TLSListener(ln, srv.ServerConfig(tls.RequireAndVerifyClientCert, transport.RequireKind(transport.KindNode)))
	m, err := transport.NewMux(tln, func() transport.Meta { return transport.Meta{NodeID: "n1", HTTPAddr: "127.0.0.1:1"} }, rpc, transport.DefaultMuxConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, &calls
}

// TestMuxTLSRefusesBeforeHandler: on a TLS raft port, raw bytes (garbage, or a well-formed
// plaintext RPC request), a TLS client without a certificate, with a client certificate, or
// with a certificate of another CA never reach the RPC handler; a node certificate does.
func TestMuxTLSRefusesBeforeHandler(t *testing.T) {
	p, other := newPKI(t), newPKI(t)
	m, calls := tlsMux(t, p)
	addr := m.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// A plaintext RPC request: protocol byte, then a frame of 4 bytes.
	for _, raw := range [][]byte{{'A', 4, 'p', 'i', 'n', 'g'}, []byte("\x16\x03\x01garbage that is no TLS record\r\n\r\n")} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(raw)
		// The server closes the connection (perhaps after a TLS alert); it never answers.
		b, _ := io.ReadAll(c)
		c.Close()
		if len(b) > 0 && b[0] != 0x15 { // 0x15: a TLS alert record
			t.Fatalf("raw %q: got %q, want the connection closed", raw, b)
		}
	}

	refused := []struct {
		name string
		cfg  *tls.Config
	}{
		{"no certificate", &tls.Config{InsecureSkipVerify: true}},
		{"client certificate", p.reloader(t, transport.ClientIdentity("alice")).ClientConfig("", nil)},
		{"certificate of another CA", &tls.Config{InsecureSkipVerify: true,
			GetClientCertificate: other.reloader(t, transport.NodeIdentity("n2")).ClientConfig("", nil).GetClientCertificate}},
	}
	for _, tt := range refused {
		c := transport.NewRPCClient(transport.ProtoApply, 1, nil, tt.cfg)
		// Refused in the handshake, the caller knows nothing was sent.
		if _, err := c.Call(ctx, addr, []byte("ping")); !errors.Is(err, transport.ErrNotSent) || !errors.Is(err, transport.ErrHandshake) {
			t.Fatalf("%s: got %v, want ErrNotSent and ErrHandshake", tt.name, err)
		}
		c.Close()
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d requests reached the RPC handler, want 0", n)
	}

	n2 := p.reloader(t, transport.NodeIdentity("n2"))
	c := transport.NewRPCClient(transport.ProtoApply, 1, nil, n2.ClientConfig("", transport.RequireKind(transport.KindNode)))
	defer c.Close()
	resp, err := c.Call(ctx, addr, []byte("ping"))
	if err != nil || string(resp) != "ok:ping" || calls.Load() != 1 {
		t.Fatalf("node certificate: got %q, %v, %d calls; want ok:ping, 1 call", resp, err, calls.Load())
	}
}

// TestMuxTLSRaftAndMeta: raft connections and metadata queries work over TLS between node
// certificates, and a dialer with a certificate of another CA fails in the handshake.
func TestMuxTLSRaftAndMeta(t *testing.T) {
	p, other := newPKI(t), newPKI(t)
	m, _ := tlsMux(t, p)
	addr := m.Addr().String()
	n2 := p.reloader(t, transport.NodeIdentity("n2"))
	cfg := n2.ClientConfig("", transport.RequireKind(transport.KindNode))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if meta, err := transport.QueryMeta(ctx, addr, cfg); err != nil || meta.NodeID != "n1" {
		t.Fatalf("meta over TLS: %+v, %v", meta, err)
	}
	pctx, pcancel := context.WithTimeout(ctx, time.Second)
	defer pcancel()
	if _, err := transport.QueryMeta(pctx, addr, nil); err == nil {
		t.Fatalf("a plaintext meta query was answered")
	}

	layer := m.RaftLayer(cfg)
	c, err := layer.Dial(addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("ping"))
	s, err := layer.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("raft stream over TLS: %q, %v", buf, err)
	}
	if tc, ok := s.(interface{ ConnectionState() tls.ConnectionState }); !ok || !tc.ConnectionState().HandshakeComplete {
		t.Fatalf("raft got a %T, want a connection over TLS", s)
	}

	foreign := other.reloader(t, transport.NodeIdentity("n3"))
	_, err = m.RaftLayer(foreign.ClientConfig("", transport.RequireKind(transport.KindNode))).Dial(addr, 5*time.Second)
	if !errors.Is(err, transport.ErrHandshake) {
		t.Fatalf("dial with a certificate of another CA: got %v, want ErrHandshake", err)
	}
}
