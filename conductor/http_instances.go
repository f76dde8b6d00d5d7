package conductor

import (
	"net/http"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/gorilla/mux"
)

// pathUUID reads and checks the {uuid} path variable.
func pathUUID(r *http.Request) (string, error) {
	u, err := validate.UUID("uuid", mux.Vars(r)["uuid"])
	return u, err
}

func (c *Conductor) createInstance(w http.ResponseWriter, r *http.Request) {
	var req api.InstanceCreate
	if err := decode(w, r, &req); err != nil {
		c.failErr(w, err)
		return
	}
	inst, created, err := c.db.CreateInstance(r.Context(), req)
	if err != nil {
		c.failErr(w, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.reply(w, status, inst)
}

func (c *Conductor) listInstances(w http.ResponseWriter, r *http.Request) {
	q, err := ParseListQuery(r.URL.Query())
	if err != nil {
		c.failErr(w, err)
		return
	}
	list, err := c.db.ListInstances(r.Context(), q)
	if err != nil {
		c.failErr(w, err)
		return
	}
	c.reply(w, http.StatusOK, api.InstanceList{Instances: list})
}

func (c *Conductor) getInstance(w http.ResponseWriter, r *http.Request) {
	uuid, err := pathUUID(r)
	if err != nil {
		c.failErr(w, err)
		return
	}
	deleted := r.URL.Query()["deleted"]
	if len(deleted) > 1 {
		c.failErr(w, invalidf("deleted may be given once"))
		return
	}
	inst, err := c.db.Instance(r.Context(), uuid, r.URL.Query().Get("deleted"))
	if err != nil {
		c.failErr(w, err)
		return
	}
	c.reply(w, http.StatusOK, inst)
}

func (c *Conductor) deleteInstance(w http.ResponseWriter, r *http.Request) {
	uuid, err := pathUUID(r)
	if err != nil {
		c.failErr(w, err)
		return
	}
	if _, err := c.db.DeleteInstance(r.Context(), uuid); err != nil {
		c.failErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
