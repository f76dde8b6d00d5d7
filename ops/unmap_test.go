package ops_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/node"
	"github.com/cellmap/cellmap/ops"
)

const (
	cellA = "aaaaaaaa-0000-4000-8000-000000000001"
	cellB = "bbbbbbbb-0000-4000-8000-000000000002"
	cellC = "cccccccc-0000-4000-8000-000000000003" // never created
)

var errBusy = errors.New("the cell says no")

// guard records what it is asked and told, and refuses what refuse names (a cell or a host).
type guard struct {
	refuse string
	calls  []string
}

func (g *guard) BeforeDeleteCell(_ context.Context, cell string) (uint64, []string, error) {
	g.calls = append(g.calls, "before-cell "+cell)
	if cell == g.refuse {
		return 0, nil, errBusy
	}
	return 1, []string{"h-of-" + cell}, nil // "no live instance" as of the first index
}

func (g *guard) BeforeDeleteHost(_ context.Context, cell, host string) error {
	g.calls = append(g.calls, "before-host "+cell+" "+host)
	if host == g.refuse {
		return errBusy
	}
	return nil
}

func (g *guard) AfterUnmapHosts(_ context.Context, cell string, hosts []string) {
	g.calls = append(g.calls, fmt.Sprintf("after %s %v", cell, hosts))
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustApply(t *testing.T, n *node.Node, c fsm.Command) {
	t.Helper()
	if res, err := n.Apply(ctxT(t), c); err != nil || res.Err != nil {
		t.Fatalf("apply %T: %v %v", c, err, res)
	}
}

// setup returns a node with cells A and B and hosts h1, h2 in A.
func setup(t *testing.T) *node.Node {
	n := testcluster.StartNode(t, nil).Node
	for i, c := range []string{cellA, cellB} {
		mustApply(t, n, &fsm.CreateCell{Cell: fsm.Cell{UUID: c, Name: c[:1], TransportURL: fmt.Sprintf("rabbit://h:%d/", i),
			DatabaseConnection: fmt.Sprintf("mysql://db/%d", i)}})
	}
	for _, h := range []string{"h1", "h2"} {
		mustApply(t, n, &fsm.Txn{Ops: []fsm.Op{{Kind: fsm.OpPut, Table: fsm.TableHostMappings, Record: &fsm.HostMapping{Host: h, CellUUID: cellA}}}})
	}
	return n
}

func hostCell(t *testing.T, n *node.Node, host string) string {
	t.Helper()
	var cell string
	if _, err := n.Read(ctxT(t), node.Linearizable{}, func(r *fsm.Reader) error {
		if h, err := r.HostMapping(host); err == nil {
			cell = h.CellUUID
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return cell
}

// is reports whether got is want (nil only when want is nil).
func is(got, want error) bool {
	if want == nil {
		return got == nil
	}
	return errors.Is(got, want)
}

func TestDeleteHost(t *testing.T) {
	n := setup(t)
	for _, tc := range []struct {
		name, host, cell string
		guarded          bool
		wantErr, wantRes error // the call's error, the state's domain error
		wantCalls        []string
		wantGone         bool
	}{
		{name: "unknown cell, no guard", host: "h1", cell: cellC, wantErr: fsm.ErrUnknownCell},
		{name: "unknown cell", host: "h1", cell: cellC, guarded: true, wantErr: fsm.ErrUnknownCell},
		{name: "other cell: the state refuses, the guard is not asked", host: "h1", cell: cellB, guarded: true, wantRes: fsm.ErrCellMismatch},
		{name: "no such host: the guard is not asked", host: "h9", guarded: true, wantRes: fsm.ErrNotFound},
		{name: "the cell refuses", host: "busy", guarded: true, wantErr: errBusy, wantCalls: []string{"before-host " + cellA + " busy"}},
		{name: "deleted and unflagged", host: "h1", cell: cellA, guarded: true, wantGone: true,
			wantCalls: []string{"before-host " + cellA + " h1", "after " + cellA + " [h1]"}},
		{name: "deleted without a guard", host: "h2", wantGone: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.host == "busy" {
				mustApply(t, n, &fsm.Txn{Ops: []fsm.Op{{Kind: fsm.OpPut, Table: fsm.TableHostMappings, Record: &fsm.HostMapping{Host: "busy", CellUUID: cellA}}}})
			}
			g := &guard{refuse: "busy"}
			u := ops.NewUnmapper(n, nil)
			if tc.guarded {
				u = ops.NewUnmapper(n, g)
			}
			before := hostCell(t, n, tc.host)
			res, err := u.DeleteHost(ctxT(t), tc.host, tc.cell, 0)
			if !is(err, tc.wantErr) {
				t.Fatalf("got error %v, want %v", err, tc.wantErr)
			}
			if err == nil && !is(res.Err, tc.wantRes) {
				t.Fatalf("got result error %v, want %v", res.Err, tc.wantRes)
			}
			if !reflect.DeepEqual(g.calls, tc.wantCalls) {
				t.Fatalf("guard calls: got %q, want %q", g.calls, tc.wantCalls)
			}
			if after := hostCell(t, n, tc.host); (after == "") != (tc.wantGone || before == "") {
				t.Fatalf("host %s: in cell %q after, %q before; want gone: %v", tc.host, after, before, tc.wantGone)
			}
		})
	}
}

func TestDeleteCell(t *testing.T) {
	n := setup(t)
	g := &guard{refuse: cellA}
	u := ops.NewUnmapper(n, g)
	if _, err := u.DeleteCell(ctxT(t), cellA, true); !errors.Is(err, errBusy) {
		t.Fatalf("refused delete: got %v, want the guard's error", err)
	}
	// Forced: the hosts go with the cell; the guard is told which.
	res, err := u.DeleteCell(ctxT(t), cellB, true)
	if err != nil || res.Err != nil {
		t.Fatalf("delete: %v %v", err, res)
	}
	want := []string{"before-cell " + cellA, "before-cell " + cellB, "after " + cellB + " [h-of-" + cellB + "]"}
	if !reflect.DeepEqual(g.calls, want) {
		t.Fatalf("guard calls: got %q, want %q", g.calls, want)
	}
	// A domain failure comes back in the result, and the guard is not told anything after.
	g.calls, g.refuse = nil, ""
	res, err = u.DeleteCell(ctxT(t), cellA, false)
	if err != nil || !errors.Is(res.Err, fsm.ErrHostsMapped) {
		t.Fatalf("delete of a cell with hosts: got %v / %v, want fsm.ErrHostsMapped", err, res)
	}
	if want := []string{"before-cell " + cellA}; !reflect.DeepEqual(g.calls, want) {
		t.Fatalf("guard calls: got %q, want %q", g.calls, want)
	}
}

// consistencyStore records the consistency of every read.
type consistencyStore struct {
	ops.Store
	reads []node.Consistency
}

func (s *consistencyStore) Read(ctx context.Context, c node.Consistency, fn func(r *fsm.Reader) error) (node.ReadInfo, error) {
	s.reads = append(s.reads, c)
	return s.Store.Read(ctx, c, fn)
}

// TestDeleteHostGuardReadsLinearizably: the cell a guarded delete_host asks is read with a
// linearizable read, never from a possibly stale local state (issue 9 defect 8, guardHost).
func TestDeleteHostGuardReadsLinearizably(t *testing.T) {
	n := setup(t)
	store := &consistencyStore{Store: n}
	if _, err := ops.NewUnmapper(store, &guard{}).DeleteHost(ctxT(t), "h1", "", 0); err != nil {
		t.Fatal(err)
	}
	if len(store.reads) == 0 {
		t.Fatal("delete_host read nothing before asking the cell")
	}
	for _, c := range store.reads {
		if _, ok := c.(node.Linearizable); !ok {
			t.Fatalf("delete_host read the host's cell with %T, want node.Linearizable", c)
		}
	}
}
