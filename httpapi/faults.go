package httpapi

import (
	"net/http"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/transport"
)

// FaultRequest is the body of POST /internal/faults: user-space network faults for the chaos
// harness on machines without netem. The route exists only when cellmapd runs with
// --enable-fault-injection.
type FaultRequest struct {
	// DelayMS delays every write on this node's raft connections (0 turns it off).
	DelayMS int `json:"delay_ms"`
	// Drop lists raft addresses this node must not dial; Undrop lists addresses to dial again.
	Drop   []string `json:"drop,omitempty"`
	Undrop []string `json:"undrop,omitempty"`
}

// faultHandler serves POST /internal/faults driving f.
func (s *Service) faultHandler(f *transport.Faults) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req FaultRequest
		if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
			s.failErr(w, err)
			return
		}
		if req.DelayMS < 0 || req.DelayMS > 60000 {
			s.failErr(w, invalidf("delay_ms must be 0..60000"))
			return
		}
		f.SetDelay(time.Duration(req.DelayMS) * time.Millisecond)
		for _, a := range req.Drop {
			f.SetDropped(a, true)
		}
		for _, a := range req.Undrop {
			f.SetDropped(a, false)
		}
		s.reply(w, http.StatusOK, s.node.AppliedIndex(), api.Health{Status: "ok"})
	}
}
