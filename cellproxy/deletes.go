package cellproxy

import (
	"context"
	"errors"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// maxDeleteBackoff caps the wait between two retries of one queued delete.
const maxDeleteBackoff = 5 * time.Minute

// confirmDelete drops the pending delete of a server once its cell has confirmed the delete.
func (p *Proxy) confirmDelete(ctx context.Context, uuid string) {
	_, err := p.apply(ctx, &fsm.Txn{Ops: []fsm.Op{{Kind: fsm.OpDelete, Table: fsm.TablePendingDeletes, Key: uuid}}})
	if err != nil && !errors.Is(err, fsm.ErrNotFound) {
		p.logger.Warn("could not record a confirmed delete; the leader asks the cell again", "server", uuid, "error", err)
	}
}

// RetryDeletesLoop retries the queued deletes that their cells have not confirmed until ctx
// ends (a leader duty). The pending deletes are replicated state, so a new leader, or this
// one after a restart, takes over where the last one stopped. Each delete waits
// DeleteRetryInterval after a failure, doubling up to 5 minutes.
func (p *Proxy) RetryDeletesLoop(ctx context.Context) {
	t := time.NewTicker(p.cfg.DeleteRetryInterval)
	defer t.Stop()
	backoff := map[string]*retryState{}
	for {
		p.retryDeletes(ctx, backoff)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type retryState struct {
	wait time.Duration
	next time.Time
}

// retryDeletes asks the cells to delete each pending server that is due; those the cell
// confirms (or no longer has) leave the pending table.
func (p *Proxy) retryDeletes(ctx context.Context, backoff map[string]*retryState) {
	var pending []*fsm.PendingDelete
	if err := p.read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		pending, err = r.PendingDeletes(0) // few: only deletes their cells have not confirmed
		return err
	}); err != nil {
		p.logger.Warn("retry deletes: read the pending deletes", "error", err)
		return
	}
	seen := map[string]bool{}
	now := p.now()
	for _, pd := range pending {
		seen[pd.InstanceUUID] = true
		st := backoff[pd.InstanceUUID]
		if st != nil && now.Before(st.next) || !p.registry.Up(pd.CellUUID) {
			continue
		}
		err := p.cellCall(ctx, pd.CellUUID, func(ctx context.Context, addr string) error { return p.cells.delete(ctx, addr, pd.InstanceUUID) })
		if err == nil || errors.Is(err, ErrNotFound) {
			p.logger.Info("cell confirmed a queued delete", "server", pd.InstanceUUID, "cell", pd.CellUUID)
			p.confirmDelete(ctx, pd.InstanceUUID)
			delete(backoff, pd.InstanceUUID)
			continue
		}
		if st == nil {
			st = &retryState{wait: p.cfg.DeleteRetryInterval}
			backoff[pd.InstanceUUID] = st
		} else {
			st.wait = min(2*st.wait, maxDeleteBackoff)
		}
		st.next = now.Add(st.wait)
		p.logger.Warn("queued delete failed again", "server", pd.InstanceUUID, "cell", pd.CellUUID, "retry_in", st.wait, "error", err)
	}
	for uuid := range backoff {
		if !seen[uuid] {
			delete(backoff, uuid)
		}
	}
}

// hideQueued drops from a listing the servers whose mapping is queued for delete (their cell
// has not confirmed the delete yet). The local state is at least as new as the listing's
// linearizable read, so an unchecked read suffices.
func (p *Proxy) hideQueued(ctx context.Context, rows []api.Server) ([]api.Server, error) {
	if len(rows) == 0 {
		return rows, nil
	}
	out := rows[:0]
	// LocalUnchecked: this node already applied the listing's linearizable read index.
	err := p.read(ctx, node.LocalUnchecked{}, func(r *fsm.Reader) error {
		for _, s := range rows {
			m, err := r.InstanceMapping(s.ID)
			if err == nil && m.QueuedForDelete {
				continue
			}
			out = append(out, s)
		}
		return nil
	})
	return out, err
}
