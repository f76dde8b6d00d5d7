package conductor

import (
	"context"
	"sync/atomic"
	"testing"
)

// goneAfterFirstCheck is a caller that is still there when a request is first checked and has
// given up at every later check: it gave up while the request waited for the write lock.
type goneAfterFirstCheck struct {
	context.Context
	checks atomic.Int32
}

func (c *goneAfterFirstCheck) Err() error {
	if c.checks.Add(1) > 1 {
		return context.DeadlineExceeded
	}
	return nil
}

// TestCreateRechecksTheDeadlineAfterTheWriteLock: a create whose caller gave up while it
// waited for the database's write lock must not build the server once it gets the lock (the
// API tier may already be building it in another cell).
func TestCreateRechecksTheDeadlineAfterTheWriteLock(t *testing.T) {
	db, _ := openTestDB(t, host("h1", 8, 8192, 100))
	req := buildReq(1, flavor(1, 512, 1))
	ctx := &goneAfterFirstCheck{Context: context.Background()}
	if _, _, err := db.CreateInstance(ctx, req); err == nil {
		t.Fatal("a create whose caller gave up while it waited for the write lock built the server")
	}
	if _, err := db.Instance(context.Background(), req.UUID, ""); err == nil {
		t.Fatal("the abandoned create left the server in the cell")
	}
	if _, created, err := db.CreateInstance(context.Background(), req); err != nil || !created {
		t.Fatalf("a later create of the same server: created %v, %v", created, err)
	}
}
