package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cellmap/cellmap/api"
)

// listKind reads every record of one kind the cache keeps into st (linearizable reads,
// instance mappings page by page), calling seen with the index of every answer.
func (f *follower) listKind(ctx context.Context, cl *Client, kind string, st *cacheState, seen func(uint64)) error {
	cfg := &f.c.cfg
	get := func(path string, v url.Values, out any) error {
		rctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
		defer cancel()
		if len(v) > 0 {
			path += "?" + v.Encode()
		}
		m, err := cl.Do(rctx, http.MethodGet, path, nil, nil, out)
		if err == nil || (IsNotFound(err) && m.Index > 0) { // a 404 answers as of its index too
			seen(m.Index)
		}
		return err
	}
	switch kind {
	case api.KindInstanceMappings:
		return f.listInstances(get, st)
	case api.KindHostMappings:
		v := url.Values{}
		if cfg.CellUUID != "" {
			v.Set("cell_uuid", cfg.CellUUID)
		}
		var out api.HostMappingList
		if err := get("/v1/hosts", v, &out); err != nil {
			return err
		}
		for i := range out.Hosts {
			st.put(kind, out.Hosts[i].Host, normalize(&out.Hosts[i]))
		}
	case api.KindCells:
		var out api.CellList
		if cfg.CellUUID != "" {
			var cell api.Cell
			err := get("/v1/cells/"+url.PathEscape(cfg.CellUUID), nil, &cell)
			if IsNotFound(err) {
				return nil // the cell does not exist (yet)
			}
			if err != nil {
				return err
			}
			out.Cells = append(out.Cells, cell)
		} else if err := get("/v1/cells", nil, &out); err != nil {
			return err
		}
		for i := range out.Cells {
			st.put(kind, out.Cells[i].UUID, normalize(&out.Cells[i]))
		}
	case api.KindFlavors:
		var out api.FlavorList
		if err := get("/v1/flavors", nil, &out); err != nil {
			return err
		}
		for i := range out.Flavors {
			st.put(kind, out.Flavors[i].ID, normalize(&out.Flavors[i]))
		}
	}
	return nil
}

// listInstances pages through the instance mappings (of the project or cell asked).
func (f *follower) listInstances(get func(string, url.Values, any) error, st *cacheState) error {
	cfg := &f.c.cfg
	marker := ""
	for {
		v := url.Values{"limit": {strconv.Itoa(cfg.PageSize)}}
		if cfg.ProjectID != "" {
			v.Set("project_id", cfg.ProjectID)
		}
		if cfg.CellUUID != "" {
			v.Set("cell_uuid", cfg.CellUUID)
		}
		if marker != "" {
			v.Set("marker", marker)
		}
		var out api.InstanceMappingList
		if err := get("/v1/instance-mappings", v, &out); err != nil {
			return err
		}
		for i := range out.InstanceMappings {
			m := &out.InstanceMappings[i]
			st.put(api.KindInstanceMappings, m.InstanceUUID, normalize(m))
		}
		if out.NextMarker == "" || len(out.InstanceMappings) == 0 {
			return nil
		}
		marker = out.NextMarker
	}
}
