package transport

import (
	"errors"
	"net"
	"sync"
	"time"
)

// ErrFaultDrop is the dial error of a peer that [Faults] cuts off.
var ErrFaultDrop = errors.New("transport: connection dropped by fault injection")

// Faults injects latency into connections in user space, for machines whose kernel has no
// netem. A nil *Faults injects nothing. The chaos harness drives it through a test-only admin
// endpoint of cellmapd.
type Faults struct {
	mu    sync.RWMutex
	delay time.Duration
	drop  map[string]bool
}

// NewFaults returns fault hooks that inject nothing until told to.
func NewFaults() *Faults { return &Faults{drop: map[string]bool{}} }

// SetDelay makes every write on a wrapped connection wait d first (0 turns it off).
func (f *Faults) SetDelay(d time.Duration) {
	f.mu.Lock()
	f.delay = d
	f.mu.Unlock()
}

// Delay returns the injected write delay.
func (f *Faults) Delay() time.Duration {
	if f == nil {
		return 0
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.delay
}

// SetDropped makes dials to addr fail (true) or succeed again (false).
func (f *Faults) SetDropped(addr string, dropped bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if dropped {
		f.drop[addr] = true
	} else {
		delete(f.drop, addr)
	}
}

func (f *Faults) dialAllowed(addr string) error {
	if f == nil {
		return nil
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.drop[addr] {
		return ErrFaultDrop
	}
	return nil
}

func (f *Faults) wrap(c net.Conn) net.Conn {
	if f == nil {
		return c
	}
	return &faultConn{Conn: c, faults: f}
}

type faultConn struct {
	net.Conn
	faults *Faults
}

func (c *faultConn) Write(p []byte) (int, error) {
	if d := c.faults.Delay(); d > 0 {
		time.Sleep(d)
	}
	return c.Conn.Write(p)
}
