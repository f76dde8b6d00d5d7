package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/gossip"
)

// Keyring is what the keyring endpoints need of the gossip pool (a *gossip.Gossip): run an
// operation on every alive member.
type Keyring interface {
	PoolKeyOp(ctx context.Context, op, key string) (*api.KeyringResult, error)
}

// keyringRoutes registers the pool keyring endpoints; keys are secrets and changing them can
// split the pool, so both need admin.
func (s *Service) keyringRoutes(r *mux.Router) {
	if s.cfg.Keyring == nil {
		return
	}
	s.handle(r, http.MethodGet, operatorPrefix+"keyring", acl.PermAdmin, s.listKeys)
	s.handle(r, http.MethodPost, operatorPrefix+"keyring", acl.PermAdmin, s.changeKeys)
}

// listKeys asks every member of the gossip pool for its keys.
func (s *Service) listKeys(w http.ResponseWriter, r *http.Request) {
	s.keyringOp(w, r, gossip.KeyList, "")
}

// changeKeys installs, uses or removes a key on every member of the pool.
func (s *Service) changeKeys(w http.ResponseWriter, r *http.Request) {
	var req api.KeyringRequest
	if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.failErr(w, err)
		return
	}
	if req.Op == gossip.KeyList {
		s.fail(w, http.StatusBadRequest, api.CodeInvalid, "list is a GET of this endpoint")
		return
	}
	s.keyringOp(w, r, req.Op, req.Key)
}

// keyringOp runs the operation and answers the pool's result: 200 even when some members
// failed (the result counts them), an error only when nothing was done.
func (s *Service) keyringOp(w http.ResponseWriter, r *http.Request, op, key string) {
	res, err := s.cfg.Keyring.PoolKeyOp(r.Context(), op, key)
	switch {
	case errors.Is(err, gossip.ErrInvalidKeyOp):
		s.fail(w, http.StatusBadRequest, api.CodeInvalid, err.Error())
	case errors.Is(err, gossip.ErrNoEncryption):
		s.fail(w, http.StatusConflict, api.CodeGossipNotEncrypted, err.Error())
	case errors.Is(err, gossip.ErrKeyNotEverywhere):
		s.fail(w, http.StatusConflict, api.CodeKeyNotEverywhere, err.Error())
	case err != nil:
		s.failErr(w, err)
	default:
		if op != gossip.KeyList {
			s.logger.Info("gossip keyring changed", "op", op, "members", res.Members, "failed", res.Failed)
		}
		s.reply(w, http.StatusOK, s.node.AppliedIndex(), res)
	}
}
