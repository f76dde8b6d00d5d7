package node

import (
	"context"
	"sync"
)

// coalescer shares one run of an expensive check among concurrent callers. A caller is served
// by a run that started after the caller arrived, never by one already under way: that is what
// makes a shared leadership check valid for a linearizable read.
type coalescer struct {
	fn func() (uint64, error)

	mu      sync.Mutex
	waiters []chan coalesced
	running bool
}

type coalesced struct {
	v   uint64
	err error
}

func newCoalescer(fn func() (uint64, error)) *coalescer { return &coalescer{fn: fn} }

// Do waits for the next run of fn and returns its result.
func (c *coalescer) Do(ctx context.Context) (uint64, error) {
	ch := make(chan coalesced, 1)
	c.mu.Lock()
	c.waiters = append(c.waiters, ch)
	if !c.running {
		c.running = true
		go c.loop()
	}
	c.mu.Unlock()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (c *coalescer) loop() {
	for {
		c.mu.Lock()
		batch := c.waiters
		c.waiters = nil
		if len(batch) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		v, err := c.fn()
		for _, ch := range batch {
			ch <- coalesced{v, err}
		}
	}
}
