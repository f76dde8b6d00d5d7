package conductor

import (
	"context"
	"net/http"

	"github.com/cellmap/cellmap/api"
	"github.com/gorilla/mux"
)

// routes registers every route of the conductor API (api/conductor.go) in one place.
func (c *Conductor) routes() *mux.Router {
	r := mux.NewRouter()
	r.Use(c.withRequestID, c.withTimeout)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c.fail(w, http.StatusNotFound, api.CodeNotFound, "no such endpoint")
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c.fail(w, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, "method not allowed on this endpoint")
	})

	r.HandleFunc("/v1/instances", c.createInstance).Methods(http.MethodPost)
	r.HandleFunc("/v1/instances", c.listInstances).Methods(http.MethodGet)
	r.HandleFunc("/v1/instances/{uuid}", c.getInstance).Methods(http.MethodGet)
	r.HandleFunc("/v1/instances/{uuid}", c.deleteInstance).Methods(http.MethodDelete)

	r.HandleFunc("/v1/capacity", c.capacity).Methods(http.MethodGet)
	r.HandleFunc("/v1/compute-hosts", c.listHosts).Methods(http.MethodGet)
	r.HandleFunc("/v1/compute-hosts", c.registerHost).Methods(http.MethodPost)
	r.HandleFunc("/v1/compute-hosts/{name}/mapped", c.setHostMapped).Methods(http.MethodPut)
	r.HandleFunc("/v1/services", c.services).Methods(http.MethodGet)
	r.HandleFunc("/v1/stats", c.stats).Methods(http.MethodGet)

	r.HandleFunc("/healthz", c.healthz).Methods(http.MethodGet)
	r.Handle("/metrics", c.metricsHandler()).Methods(http.MethodGet)
	return r
}

// withTimeout bounds every request.
func (c *Conductor) withTimeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), c.cfg.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Health is the answer of GET /healthz.
type Health struct {
	Status   string `json:"status"`
	CellUUID string `json:"cell_uuid"`
}

func (c *Conductor) healthz(w http.ResponseWriter, _ *http.Request) {
	c.reply(w, http.StatusOK, Health{Status: "ok", CellUUID: c.cfg.CellUUID})
}
