package main

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/cellmap/cellmap/client"
)

// rawRaftRequest opens a connection to a raft port, writes b as is and returns everything the
// node answers until it closes the connection or goes quiet (an error is part of the answer:
// a node that died answers nothing).
func rawRaftRequest(t *testing.T, addr string, b []byte) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		t.Fatalf("write to %s: %v", addr, err)
	}
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	var out bytes.Buffer
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		out.Write(buf[:n])
		// One answer frame is all a request gets: uvarint length, then the answer.
		if l, k := binary.Uvarint(out.Bytes()); k > 0 && out.Len() >= k+int(l) {
			return out.Bytes()
		}
		if err != nil {
			return out.Bytes()
		}
	}
}

// TestRaftPortRefusesUndecodableFrame is issue 9's repro: one forwarded-apply frame holding the
// single byte 99 (no such command type) sent to the raft port of every node of a three-node
// cluster. Every node must refuse it with an error answer and keep serving; the entry must
// never reach the log (before the fix the leader proposed it, and every replica panicked
// applying it, at every restart too).
func TestRaftPortRefusesUndecodableFrame(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	procs := startThree(t)
	for _, pr := range procs {
		answer := rawRaftRequest(t, pr.raft, []byte{'A', 0x01, 0x63})
		if len(answer) < 2 || answer[1] == 0 {
			t.Errorf("%s answered %q to an undecodable entry, want a refusal", pr.id, answer)
		}
	}
	leader := leaderOf(t, procs)
	answer := rawRaftRequest(t, leader.raft, []byte{'A', 0x01, 0x63})
	if !bytes.Contains(answer, []byte("invalid")) {
		t.Errorf("the leader answered %q, want an invalid refusal", answer)
	}
	for i, pr := range procs {
		if pr.p.Exited() {
			t.Fatalf("%s exited after the frame:\n%s", pr.id, pr.p.Output())
		}
		id := uuidN(900 + i)
		if _, _, err := pr.c.PutInstanceMapping(ctx(t, 10*time.Second), id, mapping("p"), client.Condition{IfAbsent: true}); err != nil {
			t.Fatalf("write through %s after the frame: %v", pr.id, err)
		}
	}
	for _, pr := range procs {
		if pr.p.Exited() {
			t.Fatalf("%s exited:\n%s", pr.id, pr.p.Output())
		}
	}
}
