package httpapi

import (
	"net/http"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/internal/version"
	"github.com/gorilla/mux"
)

func (s *Service) clusterStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.node.Status(r.Context())
	if err != nil {
		s.failErr(w, err)
		return
	}
	st.Version = version.String()
	if _, st.Health = s.ready(time.Now()); st.Health == "" {
		st.Health = "ok"
	}
	s.reply(w, http.StatusOK, st.AppliedIndex, st)
}

func (s *Service) clusterJoin(w http.ResponseWriter, r *http.Request) {
	var req api.JoinRequest
	if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.failErr(w, err)
		return
	}
	if err := validate.Name("node_id", req.NodeID, true); err != nil {
		s.failErr(w, err)
		return
	}
	if err := validate.Name("raft_addr", req.RaftAddr, true); err != nil {
		s.failErr(w, err)
		return
	}
	if err := s.node.Join(r.Context(), req); err != nil {
		s.failErr(w, err)
		return
	}
	s.reply(w, http.StatusOK, s.node.AppliedIndex(), req)
}

func (s *Service) clusterRemove(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if err := validate.Name("id", id, true); err != nil {
		s.failErr(w, err)
		return
	}
	if err := s.node.Remove(r.Context(), id); err != nil {
		s.failErr(w, err)
		return
	}
	s.noContent(w, s.node.AppliedIndex())
}
