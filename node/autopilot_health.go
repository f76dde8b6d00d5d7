package node

import (
	"sort"

	"github.com/cellmap/cellmap/api"
	autopilot "github.com/hashicorp/raft-autopilot"
)

// health converts an autopilot state to the API's view of it.
func (d *autopilotDelegate) health(st *autopilot.State) *api.AutopilotHealth {
	h := &api.AutopilotHealth{Healthy: st.Healthy, FailureTolerance: st.FailureTolerance, Leader: string(st.Leader),
		Voters: []string{}, Servers: []api.AutopilotServer{}, Config: d.apiConfig()}
	for _, v := range st.Voters {
		h.Voters = append(h.Voters, string(v))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, s := range st.Servers {
		contact := s.Stats.LastContact.Milliseconds()
		if s.Stats.LastContact < 0 {
			contact = -1
		}
		srv := api.AutopilotServer{ID: string(id), Address: string(s.Server.Address), NodeStatus: string(s.Server.NodeStatus),
			State: string(s.State), Healthy: s.Health.Healthy, StableSince: s.Health.StableSince.UTC(),
			LastContactMS: contact, LastTerm: s.Stats.LastTerm, LastIndex: s.Stats.LastIndex}
		if d.unknown[id] {
			srv.NodeStatus = "unknown"
		}
		if since, ok := d.failedSince[id]; ok {
			t := since.UTC()
			srv.FailedSince = &t
		}
		h.Servers = append(h.Servers, srv)
	}
	sort.Slice(h.Servers, func(i, j int) bool { return h.Servers[i].ID < h.Servers[j].ID })
	return h
}

// apiConfig is the configuration as the API shows it.
func (d *autopilotDelegate) apiConfig() api.AutopilotConfig {
	c := d.cfg
	return api.AutopilotConfig{CleanupDeadServers: c.CleanupDeadServers, DeadServerThreshold: c.DeadServerThreshold.String(),
		LastContactThreshold: c.LastContactThreshold.String(), MaxTrailingLogs: c.MaxTrailingLogs, MinQuorum: c.MinQuorum,
		ServerStabilizationTime: c.ServerStabilizationTime.String()}
}
