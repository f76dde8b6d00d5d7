package node

import "sync/atomic"

// signal wakes every goroutine waiting on it; it is re-armed after each broadcast.
type signal struct{ ch atomic.Pointer[chan struct{}] }

func newSignal() *signal {
	s := &signal{}
	ch := make(chan struct{})
	s.ch.Store(&ch)
	return s
}

// C returns a channel that is closed by the next Broadcast.
func (s *signal) C() <-chan struct{} { return *s.ch.Load() }

// Broadcast wakes all current waiters.
func (s *signal) Broadcast() {
	ch := make(chan struct{})
	close(*s.ch.Swap(&ch))
}
