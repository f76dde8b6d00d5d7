package compute

import (
	"net/http"

	"github.com/cellmap/cellmap/api"
)

// listServers is GET /servers: id, name and links of each.
func (s *Service) listServers(w http.ResponseWriter, q *request) error {
	return s.serverList(w, q, false)
}

// listServersDetail is GET /servers/detail: each server's full view.
func (s *Service) listServersDetail(w http.ResponseWriter, q *request) error {
	return s.serverList(w, q, true)
}

func (s *Service) serverList(w http.ResponseWriter, q *request, detail bool) error {
	p, err := s.parseServerList(q, detail)
	if err != nil {
		return err
	}
	var servers []api.Server
	if !p.empty && (p.query.AllTenants || p.query.ProjectID != "") {
		if servers, err = s.collect(q, p); err != nil {
			return err
		}
	}
	if detail {
		if q.place, err = s.placement(q.r.Context(), false); err != nil {
			return err
		}
	}
	out := make([]map[string]any, 0, len(servers))
	for i := range servers {
		if detail {
			out = append(out, q.serverFull(&servers[i], p.downSupport, false))
		} else {
			out = append(out, q.serverBasic(&servers[i], p.downSupport))
		}
	}
	body := map[string]any{"servers": out}
	collection := "servers"
	if detail {
		collection = "servers/detail"
	}
	if len(servers) > 0 {
		if links := q.nextLinks(collection, len(servers), servers[len(servers)-1].ID, s.cfg.MaxLimit); links != nil {
			body["servers_links"] = links
		}
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// collect lists servers through the data plane. With filters it pages through the data
// plane's order, keeping the servers that pass, until the page is full or the servers end.
func (s *Service) collect(q *request, p *serverList) ([]api.Server, error) {
	query := p.query
	if p.filter == nil {
		query.Limit = p.limit
		list, err := s.cfg.Servers.ListServers(q.r.Context(), query)
		if err != nil {
			return nil, err
		}
		return list.Servers, nil
	}
	query.Limit = s.cfg.MaxLimit
	var out []api.Server
	for {
		list, err := s.cfg.Servers.ListServers(q.r.Context(), query)
		if err != nil {
			return nil, err
		}
		for i := range list.Servers {
			if p.filter(&list.Servers[i]) {
				out = append(out, list.Servers[i])
				if len(out) == p.limit {
					return out, nil
				}
			}
		}
		if len(list.Servers) < query.Limit {
			return out, nil
		}
		query.Marker = list.Servers[len(list.Servers)-1].ID
	}
}
