package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cellmap/cellmap/fsm"
)

func TestServedAs(t *testing.T) {
	fresh := staleness{LastContact: 10 * time.Millisecond, KnownLeader: true}
	never := staleness{LastContact: time.Duration(1<<63 - 1)}
	for _, tc := range []struct {
		name string
		ask  Consistency
		st   staleness
		want Consistency
	}{
		{"nil is linearizable", nil, fresh, Linearizable{}},
		{"linearizable", Linearizable{}, fresh, Linearizable{}},
		{"local unchecked", LocalUnchecked{}, never, LocalUnchecked{}},
		{"stale without bound", Stale{}, never, Stale{}},
		{"stale within bound", Stale{MaxStale: time.Second}, fresh, Stale{MaxStale: time.Second}},
		{"stale at the bound", Stale{MaxStale: 10 * time.Millisecond}, fresh, Stale{MaxStale: 10 * time.Millisecond}},
		{"stale older than the bound", Stale{MaxStale: time.Millisecond}, fresh, Linearizable{}},
		{"stale never in contact", Stale{MaxStale: time.Hour}, never, Linearizable{}},
		{"stale while catching up after a rebuild", Stale{}, staleness{KnownLeader: true, CatchingUp: true}, Linearizable{}},
		{"unchecked while catching up", LocalUnchecked{}, staleness{CatchingUp: true}, LocalUnchecked{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := servedAs(tc.ask, tc.st); got != tc.want {
				t.Fatalf("servedAs(%#v, %+v) = %#v, want %#v", tc.ask, tc.st, got, tc.want)
			}
		})
	}
}

// readOne reads one mapping with consistency c.
func readOne(ctx context.Context, n *testNode, c Consistency, key string) (*fsm.InstanceMapping, ReadInfo, error) {
	var m *fsm.InstanceMapping
	info, err := n.Read(ctx, c, func(r *fsm.Reader) error {
		var err error
		m, err = r.InstanceMapping(uuidOf(key))
		return err
	})
	return m, info, err
}

func TestReadConsistencies(t *testing.T) {
	nodes := newCluster(t, 3)
	leader := leaderOf(t, nodes)
	var followers []*testNode
	for _, n := range nodes {
		if n != leader {
			followers = append(followers, n)
		}
	}
	res, err := followers[0].Apply(ctxT(t), mapping("i-1"))
	if err != nil || res.Err != nil {
		t.Fatalf("write: %v %v", err, res)
	}

	// Linearizable on the other follower: sees the write, without the test waiting for it.
	m, info, err := readOne(ctxT(t), followers[1], Linearizable{}, "i-1")
	if err != nil || m.Revision != res.Index {
		t.Fatalf("linearizable read on a follower: got %+v (%v), want revision %d", m, err, res.Index)
	}
	if info.Served != (Linearizable{}) || info.Index < res.Index {
		t.Fatalf("linearizable read info: got %+v, want served linearizable at index >= %d", info, res.Index)
	}

	// Stale on a follower: served stale, from the local state.
	_, info, err = readOne(ctxT(t), followers[1], Stale{}, "i-1")
	if err != nil || info.Served != (Stale{}) || info.Index < res.Index {
		t.Fatalf("stale read on a follower: got %+v (%v), want served stale", info, err)
	}

	// LocalUnchecked: the local state as it is; followers[1] has applied the write (above).
	m, info, err = readOne(ctxT(t), followers[1], LocalUnchecked{}, "i-1")
	if err != nil || m.Revision != res.Index || info.Served != (LocalUnchecked{}) || info.Index < res.Index {
		t.Fatalf("local unchecked read: got %+v, %+v (%v)", m, info, err)
	}
	if info.KnownLeader || info.LastContact != 0 {
		t.Fatalf("local unchecked read info: got %+v, want no staleness report", info)
	}

	// A domain error of fn comes back as it is, with the info of the view.
	_, info, err = readOne(ctxT(t), leader, Linearizable{}, "i-missing")
	if !errors.Is(err, fsm.ErrNotFound) || info.Index < res.Index {
		t.Fatalf("read of a missing mapping: got %+v (%v), want fsm.ErrNotFound", info, err)
	}
}

// TestStaleReadOnLeader: the leader's state is never older than any bound (a one-node cluster,
// so leadership cannot move during the test).
func TestStaleReadOnLeader(t *testing.T) {
	leader := newCluster(t, 1)[0]
	res, err := leader.Apply(ctxT(t), mapping("i-1"))
	if err != nil || res.Err != nil {
		t.Fatalf("write: %v %v", err, res)
	}
	m, info, err := readOne(ctxT(t), leader, Stale{MaxStale: time.Nanosecond}, "i-1")
	if err != nil || m.Revision != res.Index {
		t.Fatalf("stale read on the leader: got %+v (%v), want revision %d", m, err, res.Index)
	}
	if info.Served != (Stale{MaxStale: time.Nanosecond}) || !info.KnownLeader || info.LastContact != 0 || info.Index < res.Index {
		t.Fatalf("stale read info on the leader: got %+v, want served stale, leader known, no last contact, index >= %d", info, res.Index)
	}
}

// TestReadWithoutLeader: a follower that never heard of a leader serves stale and unchecked
// reads, and fails linearizable ones — also stale ones with a bound, which it cannot meet, so
// they are served linearizably — with ErrNoLeader, without running fn.
func TestReadWithoutLeader(t *testing.T) {
	lone := startNode(t, "lone", t.TempDir(), freeAddr(t), false) // neither bootstrapped nor joined
	for _, c := range []Consistency{Linearizable{}, nil, Stale{MaxStale: time.Hour}} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		ran := false
		info, err := lone.Read(ctx, c, func(*fsm.Reader) error { ran = true; return nil })
		cancel()
		if !errors.Is(err, ErrNoLeader) || ran {
			t.Fatalf("%#v read without a leader: got %v (fn ran: %v), want ErrNoLeader without running fn", c, err, ran)
		}
		if info.Served != nil {
			t.Fatalf("%#v read without a leader: got %+v, want it not served", c, info)
		}
	}
	for _, c := range []Consistency{Stale{}, LocalUnchecked{}} {
		ran := false
		info, err := lone.Read(ctxT(t), c, func(*fsm.Reader) error { ran = true; return nil })
		if err != nil || !ran || info.Served != c {
			t.Fatalf("%#v read without a leader: got %+v (%v, fn ran: %v), want it served as asked", c, info, err, ran)
		}
		if _, stale := c.(Stale); stale && info.KnownLeader {
			t.Fatalf("stale read without a leader: got %+v, want no known leader", info)
		}
	}
}
