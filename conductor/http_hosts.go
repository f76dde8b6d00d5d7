package conductor

import (
	"net/http"
	"strconv"

	"github.com/cellmap/cellmap/api"
	"github.com/gorilla/mux"
)

func (c *Conductor) capacity(w http.ResponseWriter, r *http.Request) {
	size, err := querySize(r)
	if err != nil {
		c.failErr(w, err)
		return
	}
	capa, err := c.db.Capacity(r.Context(), size)
	if err != nil {
		c.failErr(w, err)
		return
	}
	c.reply(w, http.StatusOK, capa)
}

// querySize reads the flavor size of GET /v1/capacity: nil when none of vcpus, ram_mb and
// disk_gb is given; each given one a non-negative integer, and not all zero.
func querySize(r *http.Request) (*api.Flavor, error) {
	q := r.URL.Query()
	var size api.Flavor
	given := false
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"vcpus", &size.VCPUs}, {"ram_mb", &size.RAMMB}, {"disk_gb", &size.DiskGB}} {
		v, ok := q[f.name]
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(v[0], 10, 64)
		if len(v) > 1 || err != nil || n < 0 {
			return nil, invalidf("%s must be one non-negative integer", f.name)
		}
		*f.dst, given = n, true
	}
	if !given {
		return nil, nil
	}
	if size.VCPUs == 0 && size.RAMMB == 0 && size.DiskGB == 0 {
		return nil, invalidf("a flavor size needs a positive vcpus, ram_mb or disk_gb")
	}
	return &size, nil
}

func (c *Conductor) listHosts(w http.ResponseWriter, r *http.Request) {
	var mapped *bool
	if v, ok := r.URL.Query()["mapped"]; ok {
		b, err := strconv.ParseBool(v[0])
		if len(v) > 1 || err != nil {
			c.failErr(w, invalidf("mapped must be true or false"))
			return
		}
		mapped = &b
	}
	hosts, err := c.db.ComputeHosts(r.Context(), mapped)
	if err != nil {
		c.failErr(w, err)
		return
	}
	c.reply(w, http.StatusOK, api.ComputeHostList{Hosts: hosts})
}

func (c *Conductor) registerHost(w http.ResponseWriter, r *http.Request) {
	var req api.ComputeHostCreate
	if err := decode(w, r, &req); err != nil {
		c.failErr(w, err)
		return
	}
	h, err := c.db.RegisterHost(r.Context(), req)
	if err != nil {
		c.failErr(w, err)
		return
	}
	c.logger.Info("compute host registered", "host", h.Name)
	c.reply(w, http.StatusCreated, h)
}

func (c *Conductor) setHostMapped(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	if err := checkHostName(name); err != nil {
		c.failErr(w, err)
		return
	}
	var req api.ComputeHostMapped
	if err := decode(w, r, &req); err != nil {
		c.failErr(w, err)
		return
	}
	h, err := c.db.SetHostMapped(r.Context(), name, req.Mapped)
	if err != nil {
		c.failErr(w, err)
		return
	}
	c.reply(w, http.StatusOK, h)
}

func (c *Conductor) services(w http.ResponseWriter, r *http.Request) {
	svcs, err := c.db.Services(r.Context())
	if err != nil {
		c.failErr(w, err)
		return
	}
	c.reply(w, http.StatusOK, api.ServiceList{Services: svcs})
}

func (c *Conductor) stats(w http.ResponseWriter, r *http.Request) {
	st, err := c.db.Stats(r.Context())
	if err != nil {
		c.failErr(w, err)
		return
	}
	st.CellUUID = c.cfg.CellUUID
	c.reply(w, http.StatusOK, st)
}
