package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/fsm"
)

// TokenPurge configures the leader's removal of expired tokens. Every password authentication
// of the identity API writes a token through the log; without the purge the expired ones
// would stay in the state for ever.
type TokenPurge struct {
	// Interval is the time between rounds; 0 disables the purge.
	Interval time.Duration
	// Grace is how long past its expiry a token is kept, so a node whose clock is behind the
	// leader's never sees a token vanish that it still thinks valid (it refuses it as expired
	// first).
	Grace time.Duration
	// MaxPerRound bounds one round's deletions; the rest waits for the next round.
	MaxPerRound int
}

// DefaultTokenPurge purges every 10 minutes the tokens expired for more than 5 minutes, at most
// 100,000 per round.
func DefaultTokenPurge() TokenPurge {
	return TokenPurge{Interval: 10 * time.Minute, Grace: 5 * time.Minute, MaxPerRound: 100 * fsm.MaxPurgeTokens}
}

// Validate checks the settings.
func (c TokenPurge) Validate() error {
	if c.Interval < 0 || c.Grace < 0 || c.MaxPerRound < 1 {
		return fmt.Errorf("token purge: interval %s and grace %s must not be negative, max per round %d at least 1",
			c.Interval, c.Grace, c.MaxPerRound)
	}
	return nil
}

// PurgeTokens returns the leader duty (for RunAsLeader) that removes expired tokens every
// cfg.Interval until its context ends. A round that fails (leadership lost, a member that
// does not read log version 5 yet) is logged and tried again at the next interval.
func (n *Node) PurgeTokens(cfg TokenPurge) func(ctx context.Context) {
	return func(ctx context.Context) {
		if cfg.Interval <= 0 {
			return
		}
		t := time.NewTimer(cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			purged, err := n.PurgeExpiredTokens(ctx, time.Now().Add(-cfg.Grace), cfg.MaxPerRound)
			switch {
			case err != nil && ctx.Err() == nil:
				n.logger.Warn("purging expired tokens", "purged", purged, "error", err)
			case purged > 0:
				n.logger.Info("purged expired tokens", "purged", purged)
			}
			t.Reset(cfg.Interval)
		}
	}
}

// PurgeExpiredTokens deletes up to max tokens that expired at or before before, in entries of
// up to fsm.MaxPurgeTokens accessors, and returns how many it deleted.
func (n *Node) PurgeExpiredTokens(ctx context.Context, before time.Time, max int) (int, error) {
	purged := 0
	for purged < max {
		var batch []string
		// Stale: a token the local state does not show expired yet is purged next round, and
		// Apply deletes only what is expired at the entry's time.
		_, err := n.Read(ctx, Stale{}, func(r *fsm.Reader) (err error) {
			batch, err = r.ExpiredTokens(before, min(fsm.MaxPurgeTokens, max-purged))
			return err
		})
		if err != nil || len(batch) == 0 {
			return purged, err
		}
		res, err := n.Apply(ctx, &fsm.PurgeTokens{Accessors: batch})
		if err == nil && res.Err != nil {
			err = res.Err
		}
		if err != nil {
			return purged, err
		}
		if !res.Changed {
			return purged, errors.New("token purge: the expired tokens listed were not deleted")
		}
		purged += len(batch)
	}
	return purged, nil
}
