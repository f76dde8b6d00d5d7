package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/transport"
)

// TestTLSCluster runs three cellmapd processes with TLS. Writes through followers travel to
// the leader over the mutual TLS raft port. A plaintext client of the HTTPS port is refused
// and changes nothing. A node holding a certificate of another CA cannot join: not by asking
// (its join request fails), not by an operator adding it (the leader probes its raft port
// first), and the cluster stays writable. A forwarded write presented with a certificate of
// another CA is closed in the handshake, while the same request with a node certificate of
// the cluster CA is applied.
func TestTLSCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	p := testcluster.NewPKI(t)
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{PKI: p})
	leader := c.Leader(t)
	var followers []*testcluster.ProcNode
	for _, n := range c.Nodes {
		if n != leader {
			followers = append(followers, n)
		}
	}

	// A write on a follower (forwarded over TLS), read linearizably on the other.
	if _, _, err := followers[0].Client.PutInstanceMapping(ctx(t, 10*time.Second), uuidN(1), mapping("p"), client.Condition{IfAbsent: true}); err != nil {
		t.Fatalf("write through a follower: %v", err)
	}
	if m, _, err := followers[1].Client.InstanceMapping(ctx(t, 10*time.Second), uuidN(1)); err != nil || m.ProjectID != "p" {
		t.Fatalf("read on the other follower: %+v, %v", m, err)
	}

	t.Run("HTTP/2 by ALPN, HTTP/1.1 still", func(t *testing.T) {
		for _, h2 := range []bool{true, false} {
			tr := &http.Transport{TLSClientConfig: p.ClientTLS(t, ""), Protocols: new(http.Protocols)}
			tr.Protocols.SetHTTP1(true)
			tr.Protocols.SetHTTP2(h2)
			resp, err := (&http.Client{Transport: tr}).Get(c.URL(leader) + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			tr.CloseIdleConnections()
			if want := map[bool]int{true: 2, false: 1}[h2]; resp.StatusCode != http.StatusOK || resp.ProtoMajor != want {
				t.Fatalf("offering h2 %v: %s over %s, want 200 over HTTP/%d", h2, resp.Status, resp.Proto, want)
			}
		}
	})

	t.Run("plaintext HTTP is refused", func(t *testing.T) {
		plain := client.New(leader.HTTP, nil)
		defer plain.Close()
		_, _, err := plain.PutInstanceMapping(ctx(t, 10*time.Second), uuidN(2), mapping("p"), client.Condition{IfAbsent: true})
		if err == nil {
			t.Fatalf("a plaintext write was accepted")
		}
		if _, err := plain.Cells(ctx(t, 10*time.Second), false); err == nil {
			t.Fatalf("a plaintext read was answered")
		}
		if _, _, err := leader.Client.InstanceMapping(ctx(t, 10*time.Second), uuidN(2)); !client.IsNotFound(err) {
			t.Fatalf("the refused write changed the state: %v", err)
		}
	})

	t.Run("a node of another CA cannot join", func(t *testing.T) {
		other := testcluster.NewPKI(t)
		stranger := &testcluster.ProcNode{ID: "n4", Dir: t.TempDir(), HTTP: testkit.FreeAddr(t), Raft: testkit.FreeAddr(t), Gossip: testkit.FreeUDPTCPAddr(t)}
		foreign := &testcluster.Cluster{PKI: other}
		foreign.Start(t, stranger, "--join", c.URL(leader))
		stranger.Client = other.Client(t, stranger.HTTP)
		testkit.WaitFor(t, "the stranger's join attempt failing", 30*time.Second, func() bool {
			return strings.Contains(stranger.Proc.Output(), "join failed")
		})
		// An operator adds it: the leader probes its raft port and refuses.
		err := leader.Client.Join(ctx(t, 20*time.Second), stranger.ID, stranger.Raft)
		var ae *client.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != api.CodeMemberUnreachable {
			t.Fatalf("operator join of the stranger: got %v, want 400 member_unreachable", err)
		}
		st, err := leader.Client.ClusterStatus(ctx(t, 10*time.Second))
		if err != nil || len(st.Servers) != 3 {
			t.Fatalf("cluster status: %+v, %v; want the 3 original servers", st, err)
		}
		if _, _, err := followers[0].Client.PutInstanceMapping(ctx(t, 10*time.Second), uuidN(3), mapping("p"), client.Condition{IfAbsent: true}); err != nil {
			t.Fatalf("the cluster is no longer writable: %v", err)
		}
	})

	t.Run("a forwarded write with a certificate of another CA closes in the handshake", func(t *testing.T) {
		other := testcluster.NewPKI(t)
		entry := func(id string) []byte {
			return fsm.Encode(&fsm.PutFlavor{Flavor: fsm.Flavor{ID: id, Name: id, VCPUs: 1, RAMMB: 64, DiskGB: 1}}, time.Now().UTC())
		}
		nodeCheck := transport.RequireKind(transport.KindNode)
		foreign := other.Reloader(t, transport.NodeIdentity("n4"))
		// The stranger trusts the cluster's CA, so the refusal is the leader's.
		strangerTLS := p.ClientTLS(t, "")
		strangerTLS.ServerName = "127.0.0.1"
		strangerTLS.GetClientCertificate = foreign.ClientConfig("", nil).GetClientCertificate
		call := transport.NewRPCClient(transport.ProtoApply, 1, nil, strangerTLS)
		defer call.Close()
		if _, err := call.Call(ctx(t, 10*time.Second), leader.Raft, entry("stranger")); !errors.Is(err, transport.ErrNotSent) {
			t.Fatalf("forward with a certificate of another CA: got %v, want ErrNotSent", err)
		}
		if _, err := leader.Client.Flavor(ctx(t, 10*time.Second), "stranger"); !client.IsNotFound(err) {
			t.Fatalf("the refused forward changed the state: %v", err)
		}
		// The same request from a node certificate of the cluster CA is applied.
		member := transport.NewRPCClient(transport.ProtoApply, 1, nil, p.Reloader(t, transport.NodeIdentity("n9")).ClientConfig("", nodeCheck))
		defer member.Close()
		if _, err := member.Call(ctx(t, 10*time.Second), leader.Raft, entry("member")); err != nil {
			t.Fatalf("forward with a node certificate: %v", err)
		}
		if _, err := leader.Client.Flavor(ctx(t, 10*time.Second), "member"); err != nil {
			t.Fatalf("the accepted forward is not applied: %v", err)
		}
	})

	t.Run("garbage on the raft port", func(t *testing.T) {
		conn, err := net.Dial("tcp", leader.Raft)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(15 * time.Second))
		conn.Write([]byte("A\x05hello and more garbage that is no TLS"))
		b, _ := io.ReadAll(conn)
		conn.Close()
		if len(b) > 0 && b[0] != 0x15 { // a TLS alert at most
			t.Fatalf("the raft port answered garbage with %q", b)
		}
		if _, _, err := leader.Client.PutInstanceMapping(ctx(t, 10*time.Second), uuidN(4), mapping("p"), client.Condition{IfAbsent: true}); err != nil {
			t.Fatalf("the cluster is no longer writable: %v", err)
		}
	})
}

// TestTLSDataPlaneProcesses: a cellmapd process and a cellconductor process, both with TLS,
// schedule a server: the API tier reaches the conductor over mutual TLS, the conductor's
// certificate naming its cell.
func TestTLSDataPlaneProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	p := testcluster.NewPKI(t)
	c := testcluster.StartCluster(t, &testcluster.ClusterOptions{Size: 1, PKI: p})
	n := c.Nodes[0]
	cp := &conductorProc{cell: "c1111111-0000-4000-8000-000000000001", dir: t.TempDir(), http: testkit.FreeAddr(t), gossip: testkit.FreeUDPTCPAddr(t)}
	cp.p = testcluster.Start(t, "conductor", testcluster.Binary(t, "cellconductor"), append([]string{
		"--cell-uuid", cp.cell, "--data-dir", cp.dir, "--http-addr", cp.http, "--gossip-addr", cp.gossip,
		"--join", n.Gossip, "--gossip-profile", "test", "--hosts", "h1:16:32768:500"}, p.Args(t, transport.CellIdentity(cp.cell))...)...)
	if _, _, err := n.Client.MapCell0(ctx(t, 10*time.Second), "cellmap://replicated-state/cell0"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Client.CreateFlavor(ctx(t, 10*time.Second), api.Flavor{ID: "1", Name: "tiny", VCPUs: 1, RAMMB: 256, DiskGB: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Client.CreateCell(ctx(t, 10*time.Second), api.CellCreate{UUID: cp.cell, Name: "cell1",
		TransportURL: "https://" + cp.http + "/", DatabaseConnection: "bbolt:///" + cp.dir}); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "hosts discovered in cell1", 30*time.Second, func() bool {
		res, err := n.Client.DiscoverHosts(ctx(t, 5*time.Second), api.DiscoverHosts{CellUUID: cp.cell})
		return err == nil && len(res.Mapped) == 1
	})
	s, err := n.Client.CreateServer(ctx(t, 10*time.Second), api.ServerCreateSpec{Name: "vm", FlavorRef: "1", ImageRef: "img", ProjectID: "p", UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the server active in cell1", 30*time.Second, func() bool {
		got, err := n.Client.Server(ctx(t, 5*time.Second), s.ID)
		return err == nil && got.Status == api.StatusActive && got.CellUUID == cp.cell
	})
}
