package fsm

import (
	"fmt"
	"reflect"
)

// maxKeyLen bounds every record key; bbolt allows 32 KiB but no real key comes close.
const maxKeyLen = 512

type opKey struct {
	table Table
	key   string
}

// applyTxn validates every op against the state before the transaction, then writes them all.
// Validation never writes, so a failing transaction changes nothing even though it shares its
// bbolt transaction with the rest of the raft batch.
func (f *FSM) applyTxn(ac *applyCtx, t *Txn) (*Result, error) {
	if len(t.Ops) == 0 {
		return failResult(ac, -1, "txn: no ops: %w", ErrInvalid), nil
	}
	prevs := make([]Record, len(t.Ops))
	var adjusted map[int]Record // what each OpAdjust writes
	seen := make(map[opKey]bool, len(t.Ops))
	for i := range t.Ops {
		op := &t.Ops[i]
		if err := validateOpShape(i, op, seen); err != nil {
			return &Result{Index: ac.index, FailedOp: i, Err: err}, nil
		}
		prev, err := tableOf(op.Table).get(ac.tx, op.OpKey())
		if err != nil {
			return nil, err
		}
		if res := checkPreconditions(ac, i, op, prev); res != nil {
			return res, nil
		}
		if res, err := checkReferences(ac, i, op); res != nil || err != nil {
			return res, err
		}
		prevs[i] = prev
		if op.Kind == OpAdjust {
			next, res, err := adjustRecord(ac, i, op, prev)
			if res != nil || err != nil {
				return res, err
			}
			if adjusted == nil {
				adjusted = map[int]Record{}
			}
			adjusted[i] = next
		}
	}
	for i := range t.Ops {
		if err := writeOp(ac, &t.Ops[i], prevs[i], adjusted[i]); err != nil {
			return nil, err
		}
	}
	res := okResult(ac)
	if op := &t.Ops[0]; len(t.Ops) == 1 && op.Kind == OpPut {
		res.Record = op.Record
	}
	return res, nil
}

// Validate checks the shape of every op (known table and kind, a record of the table's type for
// puts, a key for the others, no key twice) and what it carries (validate.go), without looking
// at any state. Apply checks the shape only: an op whose record does not match its table
// cannot even be decoded, while content rules may change between releases.
func (t *Txn) Validate() error {
	if len(t.Ops) == 0 || len(t.Ops) > MaxTxnOps {
		return fmt.Errorf("txn: %d ops, want 1 to %d: %w", len(t.Ops), MaxTxnOps, ErrInvalid)
	}
	seen := make(map[opKey]bool, len(t.Ops))
	for i := range t.Ops {
		if err := validateOpShape(i, &t.Ops[i], seen); err != nil {
			return err
		}
		if err := validateOpContent(&t.Ops[i]); err != nil {
			return invalid(fmt.Sprintf("op %d", i), err)
		}
	}
	return nil
}

func validateOpShape(i int, op *Op, seen map[opKey]bool) error {
	tb := tableOf(op.Table)
	if tb == nil {
		return fmt.Errorf("op %d: unknown table %s: %w", i, op.Table, ErrInvalid)
	}
	switch op.Kind {
	case OpPut, OpPutIfAbsent:
		if op.Record == nil || reflect.TypeOf(op.Record) != reflect.TypeOf(tb.newRec()) {
			return fmt.Errorf("op %d: %s needs a %s record: %w", i, op.Kind, op.Table, ErrInvalid)
		}
	case OpDelete, OpCheck:
		if op.Record != nil {
			return fmt.Errorf("op %d: %s takes a key, not a record: %w", i, op.Kind, ErrInvalid)
		}
	case OpAdjust:
		if (op.Table != TableQuotaUsages && op.Table != TableServerGroups) || op.Record == nil || reflect.TypeOf(op.Record) != reflect.TypeOf(tb.newRec()) {
			return fmt.Errorf("op %d: adjust needs a quota_usage or server_group record: %w", i, ErrInvalid)
		}
		if op.IfAbsent || op.IfRevision != 0 || op.IfCell != "" {
			return fmt.Errorf("op %d: adjust takes no precondition: %w", i, ErrInvalid)
		}
	default:
		return fmt.Errorf("op %d: unknown kind %s: %w", i, op.Kind, ErrInvalid)
	}
	key := op.OpKey()
	if key == "" || len(key) > maxKeyLen {
		return fmt.Errorf("op %d: key must have 1 to %d bytes: %w", i, maxKeyLen, ErrInvalid)
	}
	k := opKey{op.Table, key}
	if seen[k] {
		return fmt.Errorf("op %d: %s %q appears twice in one transaction: %w", i, op.Table, key, ErrInvalid)
	}
	seen[k] = true
	return nil
}

func checkPreconditions(ac *applyCtx, i int, op *Op, prev Record) *Result {
	key := op.OpKey()
	switch {
	case op.IfAbsent && prev != nil:
		return failResult(ac, i, "%s %s: %w", op.Table, key, ErrExists)
	case op.IfRevision != 0 && prev == nil:
		return failResult(ac, i, "%s %s does not exist, expected revision %d: %w", op.Table, key, op.IfRevision, ErrRevisionMismatch)
	case op.IfRevision != 0 && prev.rev() != op.IfRevision:
		return failResult(ac, i, "%s %s has revision %d, expected %d: %w", op.Table, key, prev.rev(), op.IfRevision, ErrRevisionMismatch)
	case prev == nil && !op.IfAbsent && (op.Kind == OpDelete || op.Kind == OpCheck || op.IfCell != ""):
		return failResult(ac, i, "%s %s: %w", op.Table, key, ErrNotFound)
	}
	if op.IfCell != "" {
		c, ok := prev.(celled)
		if !ok {
			return failResult(ac, i, "op %d: %s records have no cell: %w", i, op.Table, ErrInvalid)
		}
		if c.cell() != op.IfCell {
			return failResult(ac, i, "%s %s is in cell %s, not %s: %w", op.Table, key, c.cell(), op.IfCell, ErrCellMismatch)
		}
	}
	return nil
}

// checkReferences makes sure a written mapping points at an existing cell, and a written
// aggregate at mapped hosts (checkAggregate).
func checkReferences(ac *applyCtx, i int, op *Op) (*Result, error) {
	if op.Record == nil {
		return nil, nil
	}
	if a, ok := op.Record.(*Aggregate); ok {
		return checkAggregate(ac, i, a)
	}
	c, ok := op.Record.(celled)
	if !ok || c.cell() == "" {
		if ok && op.Table != TableInstanceMappings {
			return failResult(ac, i, "op %d: %s needs a cell: %w", i, op.Table, ErrInvalid), nil
		}
		return nil, nil
	}
	cell, err := getCell(ac.tx, c.cell())
	if err != nil {
		return nil, err
	}
	if cell == nil {
		return failResult(ac, i, "%s %s: cell %s: %w", op.Table, op.OpKey(), c.cell(), ErrUnknownCell), nil
	}
	return nil, nil
}

func writeOp(ac *applyCtx, op *Op, prev, adjusted Record) error {
	tb := tableOf(op.Table)
	switch op.Kind {
	case OpAdjust:
		adjusted.stamp(ac, prev)
		return tb.put(ac, adjusted, prev)
	case OpPut:
		op.Record.stamp(ac, prev)
		return tb.put(ac, op.Record, prev)
	case OpPutIfAbsent:
		if prev != nil {
			return nil
		}
		op.Record.stamp(ac, nil)
		return tb.put(ac, op.Record, nil)
	case OpDelete:
		if h, ok := prev.(*HostMapping); ok {
			if err := dropHostFromAggregates(ac, h.Host); err != nil {
				return err
			}
		}
		return tb.del(ac, prev)
	}
	return nil
}

// adjustRecord computes what an OpAdjust writes, by table.
func adjustRecord(ac *applyCtx, i int, op *Op, prev Record) (Record, *Result, error) {
	if op.Table == TableServerGroups {
		next, res := joinGroup(ac, i, op, prev)
		return next, res, nil
	}
	return adjustUsage(ac, i, op, prev)
}
