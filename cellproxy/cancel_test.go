package cellproxy

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
)

// TestCallerCancellationDoesNotMarkCellDown: a caller that hangs up (its context is cancelled)
// or whose own deadline passes while a healthy conductor is still working must not count as
// a failure of the conductor; the cell stays up. A conductor that really fails still does.
func TestCallerCancellationDoesNotMarkCellDown(t *testing.T) {
	const cell = "c1111111-0000-4000-8000-000000000001"
	arrived := make(chan struct{}, 16)
	cond := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done() // a slow but healthy conductor: it answers once the caller is gone
	}))
	defer cond.Close()
	reg := NewRegistry(time.Hour, nil)
	reg.MemberJoin(conductor("cond-1", cell, cond.Listener.Addr().String()))
	p, err := New(DefaultConfig(), nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	reg.attach(dirMap{cell: "http://" + cond.Listener.Addr().String()}, 0) // the cell's mapping, without a store
	call := func(ctx context.Context) error {
		return p.cellCall(ctx, cell, func(ctx context.Context, addr string) error {
			_, err := p.cells.capacity(ctx, addr, api.Flavor{VCPUs: 1, RAMMB: 1})
			return err
		})
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }() // hang up once the conductor has the request
	if err := call(ctx); err == nil {
		t.Fatal("a cancelled call succeeded")
	}
	if !reg.Up(cell) {
		t.Fatal("the caller's cancellation marked a healthy cell down")
	}

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := call(ctx); !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		t.Fatalf("a call past the caller's deadline: %v", err)
	}
	if !reg.Up(cell) {
		t.Fatal("the caller's own deadline marked a healthy cell down")
	}

	cond.Close() // a conductor that is gone is a failure of the cell
	if err := call(context.Background()); err == nil {
		t.Fatal("a call to a closed conductor succeeded")
	}
	if reg.Up(cell) {
		t.Fatal("an unreachable conductor did not count as a failure")
	}
}
