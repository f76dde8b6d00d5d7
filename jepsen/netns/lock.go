package netns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrBusy: another run holds the machine-wide lock for the cmj- names.
var ErrBusy = errors.New("netns: another chaos run is using the test network")

// LockPath is the lock file that serialises runs on one machine (they share the cmj- names).
func LockPath() string { return filepath.Join(os.TempDir(), Prefix+"jepsen.lock") }

// Lock takes the machine-wide lock, waiting at most wait. The returned function releases it.
func Lock(ctx context.Context, wait time.Duration) (func(), error) {
	f, err := os.OpenFile(LockPath(), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("netns: lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("netns: lock %s: %w", LockPath(), err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%w (lock %s held for more than %v)", ErrBusy, LockPath(), wait)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
