package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/cellmap/cellmap/acl"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/fsm"
)

// txn applies POST /v1/txn: instance and host mapping ops, all or none.
func (s *Service) txn(w http.ResponseWriter, r *http.Request) {
	var req api.Txn
	if err := decode(w, r, s.cfg.TxnMaxBodyBytes, &req); err != nil {
		s.failErr(w, err)
		return
	}
	if len(req.Ops) == 0 || len(req.Ops) > s.cfg.TxnMaxOps {
		s.failErr(w, invalidf("a transaction needs 1 to %d ops", s.cfg.TxnMaxOps))
		return
	}
	t := &fsm.Txn{Ops: make([]fsm.Op, len(req.Ops))}
	for i := range req.Ops {
		op, err := txnOp(&req.Ops[i])
		if err != nil {
			detail := api.ErrorDetail{Code: api.CodeInvalid, Message: "op " + strconv.Itoa(i) + ": " + err.Error(), FailedOp: &i}
			s.reply(w, http.StatusBadRequest, s.node.AppliedIndex(), api.Error{Detail: detail})
			return
		}
		t.Ops[i] = op
	}
	if err := t.Validate(); err != nil {
		s.failErr(w, invalidf("%v", err))
		return
	}
	if err := authorizeTxn(IdentityFrom(r.Context()), t); err != nil {
		s.authFailed(w, err)
		return
	}
	if scopedProject(r) != "" { // nor replace another project's mapping
		for i := range t.Ops {
			if err := s.mappingInScope(r, t.Ops[i].OpKey()); err != nil {
				s.failErr(w, err)
				return
			}
		}
	}
	res, ok := s.applied(w, r, t, true)
	if !ok {
		return
	}
	s.reply(w, http.StatusOK, res.Index, api.TxnResult{Revision: res.Index})
}

func txnOp(in *api.TxnOp) (fsm.Op, error) {
	kind, ok := fsm.OpKindByName(in.Op)
	if !ok || kind == fsm.OpAdjust { // quota adjustments are the data plane's own
		return fsm.Op{}, invalidf("op must be put, put_if_absent, delete or check, not %q", in.Op)
	}
	op := fsm.Op{Kind: kind, IfRevision: in.IfRevision, IfAbsent: in.IfAbsent}
	var err error
	if in.IfCell != "" {
		if op.IfCell, err = validate.UUID("if_cell", in.IfCell); err != nil {
			return op, err
		}
	}
	isPut := kind == fsm.OpPut || kind == fsm.OpPutIfAbsent
	switch in.Table {
	case "instance_mapping":
		op.Table = fsm.TableInstanceMappings
		if isPut != (in.InstanceMapping != nil) || in.HostMapping != nil {
			return op, invalidf("put ops carry instance_mapping; the others carry only key")
		}
		if isPut {
			v := in.InstanceMapping
			uuid, err := validate.UUID("instance_uuid", v.InstanceUUID)
			if err != nil {
				return op, err
			}
			op.Record, err = mappingRecord(uuid, v.CellUUID, v.ProjectID, v.UserID, v.QueuedForDelete, v.CreatedAt)
			return op, err
		}
		op.Key, err = validate.UUID("key", in.Key)
		return op, err
	case "host_mapping":
		op.Table = fsm.TableHostMappings
		if isPut != (in.HostMapping != nil) || in.InstanceMapping != nil {
			return op, invalidf("put ops carry host_mapping; the others carry only key")
		}
		if isPut {
			v := in.HostMapping
			if err := validate.Host("host", v.Host); err != nil {
				return op, err
			}
			cell, err := validate.UUID("cell_uuid", v.CellUUID)
			op.Record = &fsm.HostMapping{Host: v.Host, CellUUID: cell}
			return op, err
		}
		op.Key = in.Key
		return op, validate.Host("key", in.Key)
	}
	return op, invalidf("table must be instance_mapping or host_mapping, not %q", in.Table)
}

// authorizeTxn: instance-mapping ops need what the route needs (service, inside the token's
// project); any host-mapping op needs operate.
func authorizeTxn(id *acl.Identity, t *fsm.Txn) error {
	for i := range t.Ops {
		op := &t.Ops[i]
		if op.Table != fsm.TableInstanceMappings {
			if err := id.Authorize(acl.PermOperate); err != nil {
				return fmt.Errorf("op %d (%s): %w", i, op.Table, err)
			}
			continue
		}
		if id != nil && id.ProjectID != "" && op.Record == nil {
			return fmt.Errorf("%w: op %d: a project-scoped token writes mappings of its project only (delete and check ops need an unscoped token)", acl.ErrForbidden, i)
		}
		if m, ok := op.Record.(*fsm.InstanceMapping); ok && !id.InProject(m.ProjectID) {
			return fmt.Errorf("%w: op %d writes a mapping of project %s", acl.ErrForbidden, i, m.ProjectID)
		}
	}
	return nil
}
