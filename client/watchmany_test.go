package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// TestWatchMany: one WatchMany stream of two watches (instance mappings of project p1 from
// the start; cells from now) hands fn each watch's events with its WatchID, in order, and
// stops with fn's error; a bad request is a 400 *Error. Role: a reader token may watch.
func TestWatchMany(t *testing.T) {
	n := startNode(t, nil)
	admin := n.Client
	reader := client.New(n.Addr, nil).WithToken(roleToken(t, admin, "reader", ""))
	cs := cells(t, admin, "a")
	first := putMapping(t, admin, instUUID(1), cs[0], "p1")
	putMapping(t, admin, instUUID(2), cs[0], "p2")

	zero := uint64(0)
	req := api.WatchRequest{ProgressInterval: "50ms", Watches: []api.WatchSpec{
		{ID: "p1", Kinds: []string{api.KindInstanceMappings}, ProjectID: "p1", Since: &zero},
		{ID: "cells", Kinds: []string{api.KindCells}},
	}}
	got := map[string][]string{}
	var opened client.Meta
	errDone := errors.New("done")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wrote := false
	err := reader.WatchMany(ctx, req, func(m client.Meta) { opened = m }, func(ev *api.WatchEvent) error {
		if ev.Type == api.WatchTypeEvent {
			got[ev.WatchID] = append(got[ev.WatchID], ev.Op+" "+ev.Key)
		}
		if !wrote && ev.Type == api.WatchTypeProgress { // the watches are open: write live
			wrote = true
			putMapping(t, admin, instUUID(3), cs[0], "p1")
			cells(t, admin, "b")
		}
		if len(got["p1"]) == 2 && len(got["cells"]) == 1 {
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		t.Fatalf("WatchMany: %v (got %v)", err, got)
	}
	if opened.Index < first {
		t.Fatalf("opened at index %d, want at least %d", opened.Index, first)
	}
	if want := []string{"put " + instUUID(1), "put " + instUUID(3)}; len(got["p1"]) != 2 || got["p1"][0] != want[0] || got["p1"][1] != want[1] {
		t.Fatalf("watch p1 got %v, want %v", got["p1"], want)
	}
	if len(got[""]) != 0 {
		t.Fatalf("events without a watch id: %v", got[""])
	}
	bad := reader.WatchMany(ctx, api.WatchRequest{Watches: []api.WatchSpec{{ID: "a b"}}}, nil, func(*api.WatchEvent) error { return nil })
	var e *client.Error
	if !errors.As(bad, &e) || e.Status != 400 {
		t.Fatalf("a bad id: %v, want a 400 *Error", bad)
	}
}
