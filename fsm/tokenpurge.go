package fsm

import (
	"fmt"
	"time"
)

// Expired tokens (log version 5). Every password authentication of the identity API writes a
// token through the log, so tokens that expired must leave the state or they would pile up
// for ever. The leader (node.PurgeTokens) lists expired tokens on a read transaction and
// proposes their accessors; Apply deletes only those that are expired at the entry's time, so
// every replica deletes the same ones and a token whose expiry moved is kept.

// CmdPurgeTokens deletes expired tokens.
const CmdPurgeTokens CommandType = 17

// MaxPurgeTokens is the most accessors one PurgeTokens names.
const MaxPurgeTokens = 1000

// PurgeTokens deletes the named tokens that have an expiry at or before the entry's time;
// the others (unknown, never expiring, not yet expired) are left alone.
type PurgeTokens struct{ Accessors []string }

func (*PurgeTokens) Type() CommandType { return CmdPurgeTokens }

func (c *PurgeTokens) marshal(e *encoder) {
	e.uvarint(uint64(len(c.Accessors)))
	for _, a := range c.Accessors {
		e.str(a)
	}
}

func (c *PurgeTokens) unmarshal(d *decoder) {
	n := d.uvarint()
	c.Accessors = make([]string, 0, d.sizeHint(n))
	for i := uint64(0); i < n && d.err == nil; i++ {
		c.Accessors = append(c.Accessors, d.str())
	}
}

// Validate checks the accessors: 1 to MaxPurgeTokens canonical uuids.
func (c *PurgeTokens) Validate() error {
	if len(c.Accessors) == 0 || len(c.Accessors) > MaxPurgeTokens {
		return fmt.Errorf("purge_tokens: %d accessors, want 1 to %d: %w", len(c.Accessors), MaxPurgeTokens, ErrInvalid)
	}
	for _, a := range c.Accessors {
		if err := canonicalUUID("accessor_id", a); err != nil {
			return invalid("purge_tokens", err)
		}
	}
	return nil
}

func (f *FSM) applyPurgeTokens(ac *applyCtx, c *PurgeTokens) (*Result, error) {
	res := okResult(ac)
	res.Changed = false
	for _, a := range c.Accessors {
		rec, err := tokensTable.get(ac.tx, a)
		if err != nil {
			return nil, err
		}
		t, ok := rec.(*ACLToken)
		if !ok || !t.expiredAt(ac.now) {
			continue
		}
		if err := tokensTable.del(ac, t); err != nil {
			return nil, err
		}
		res.Changed = true
	}
	return res, nil
}

// expiredAt reports whether the token has an expiry at or before now.
func (t *ACLToken) expiredAt(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !t.ExpiresAt.After(now)
}

// ExpiredTokens returns the accessors of up to limit tokens whose expiry is at or before
// before, in accessor order.
func (r *Reader) ExpiredTokens(before time.Time, limit int) ([]string, error) {
	var out []string
	err := tokensTable.scan(r.tx, "", func(rec Record) (bool, error) {
		if t := rec.(*ACLToken); t.expiredAt(before) {
			out = append(out, t.AccessorID)
		}
		return len(out) < limit, nil
	})
	return out, err
}
