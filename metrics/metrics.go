// Package metrics exposes cellmapd's state in the Prometheus exposition format with
// client_golang: one registry per process (no global), collectors that read the node, the
// state, the data plane, the gossip pool and the backups at scrape time, and instruments for
// what only happens on a path (HTTP requests, writes, conductor calls, scheduling).
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/backup"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/gossip"
	"github.com/cellmap/cellmap/node"
)

// Sources are what the scrape-time collectors read; any may be nil (its metrics are left out).
type Sources struct {
	Raft  interface{ Metrics() node.Metrics }
	State interface{ Stats() (fsm.Stats, error) }
	Cells interface {
		CellsHealth() map[string]*api.CellHealth
	}
	Gossip  interface{ Members() []gossip.Member }
	Backups interface{ Status() backup.Status }
	// DataDir, when set, is the directory whose file system's free space is reported.
	DataDir string
	// StatsEvery bounds how often the state's entries are counted (a count walks the
	// buckets); 0 is 30 s.
	StatsEvery time.Duration
}

// Registry holds the process's metrics.
type Registry struct {
	reg *prometheus.Registry

	applySeconds *prometheus.HistogramVec // outcome
	callSeconds  *prometheus.HistogramVec // cell, op
	callErrors   *prometheus.CounterVec   // cell, op
	scheduled    *prometheus.CounterVec   // outcome
	downListings prometheus.Counter
	quotaRuns    *prometheus.CounterVec // result
	quotaDrift   prometheus.Gauge
	quotaSkipped prometheus.Gauge

	state *stateCollector

	httpSeconds  *prometheus.HistogramVec // route, method
	httpRequests *prometheus.CounterVec   // route, method, code
	httpInFlight prometheus.Gauge
}

// New builds the registry with the go and process collectors; the scrape-time collectors read
// what SetSources gives them.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry(), state: newStateCollector()}
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.applySeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cellmap_apply_seconds",
		Help:    "Time of the writes this node proposed or forwarded to the leader, by outcome (ok, error).",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"outcome"})
	r.callSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cellmap_conductor_call_seconds",
		Help:    "Time of the requests to the cells' conductors, by cell and operation.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"cell", "op"})
	r.callErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cellmap_conductor_call_errors_total",
		Help: "Requests to the cells' conductors that failed, by cell and operation."}, []string{"cell", "op"})
	r.scheduled = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cellmap_schedule_outcomes_total",
		Help: "Servers scheduled by this node: into a cell, buried in cell0, or rescheduled by the leader."}, []string{"outcome"})
	r.downListings = prometheus.NewCounter(prometheus.CounterOpts{Name: "cellmap_down_cell_listings_total",
		Help: "Server listings answered while some cells were down or late."})
	r.quotaRuns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cellmap_quota_reconcile_runs_total",
		Help: "Quota reconciliation rounds of this node as leader, by result (clean, drift, fixed, error)."}, []string{"result"})
	r.quotaDrift = prometheus.NewGauge(prometheus.GaugeOpts{Name: "cellmap_quota_drift_projects",
		Help: "Projects whose quota usage the leader last found drifted from what their cells hold (0 on followers)."})
	r.quotaSkipped = prometheus.NewGauge(prometheus.GaugeOpts{Name: "cellmap_quota_reconcile_skipped_projects",
		Help: "Projects the last quota reconciliation round could not judge (a cell holding their servers was down)."})
	r.httpSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cellmap_http_request_duration_seconds",
		Help: "Time of the HTTP API's requests, by route template and method.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)},
		[]string{"route", "method"})
	r.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cellmap_http_requests_total",
		Help: "HTTP API requests, by route template, method and status code."}, []string{"route", "method", "code"})
	r.httpInFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "cellmap_http_requests_in_flight",
		Help: "HTTP API requests being served."})
	r.reg.MustRegister(r.applySeconds, r.callSeconds, r.callErrors, r.scheduled, r.downListings, r.quotaRuns, r.quotaDrift, r.quotaSkipped,
		r.httpSeconds, r.httpRequests, r.httpInFlight, r.state)
	for _, o := range []string{"cell", "cell0", "reschedule"} {
		r.scheduled.WithLabelValues(o) // present at 0 from the start
	}
	for _, res := range []string{"clean", "drift", "fixed", "error"} {
		r.quotaRuns.WithLabelValues(res)
	}
	return r
}

// SetSources gives the scrape-time collectors what to read (the process builds them after the
// registry: the node's apply observer comes first).
func (r *Registry) SetSources(src Sources) { r.state.set(src) }

// Handler serves the exposition format (GET /metrics).
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
}

// Gatherer is the registry, for tests.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// ObserveApply records one write (node.Config.ApplyObserver).
func (r *Registry) ObserveApply(d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	r.applySeconds.WithLabelValues(outcome).Observe(d.Seconds())
}

// ConductorCall records a conductor request (cellproxy.Observer).
func (r *Registry) ConductorCall(cell, op string, d time.Duration, err error) {
	r.callSeconds.WithLabelValues(cell, op).Observe(d.Seconds())
	if err != nil {
		r.callErrors.WithLabelValues(cell, op).Inc()
	}
}

// Scheduled records a scheduling outcome (cellproxy.Observer).
func (r *Registry) Scheduled(outcome string) { r.scheduled.WithLabelValues(outcome).Inc() }

// DownCellListing records a listing with down cells (cellproxy.Observer).
func (r *Registry) DownCellListing() { r.downListings.Inc() }

// QuotaReconciled counts a quota reconciliation round (cellproxy.Observer).
func (r *Registry) QuotaReconciled(result string) { r.quotaRuns.WithLabelValues(result).Inc() }

// QuotaDrift sets the number of drifted projects (cellproxy.Observer).
func (r *Registry) QuotaDrift(projects int) { r.quotaDrift.Set(float64(projects)) }

// QuotaSkipped sets the number of projects the last round skipped (cellproxy.Observer).
func (r *Registry) QuotaSkipped(projects int) { r.quotaSkipped.Set(float64(projects)) }

// Route instruments one route of the HTTP API by its template (httpapi.RouteObserver): the
// labelled observers are curried once, here, so a request costs no label lookup of its own.
func (r *Registry) Route(method, template string) func(http.Handler) http.Handler {
	labels := prometheus.Labels{"route": template}
	dur := r.httpSeconds.MustCurryWith(labels)
	count := r.httpRequests.MustCurryWith(labels)
	return func(next http.Handler) http.Handler {
		return promhttp.InstrumentHandlerInFlight(r.httpInFlight,
			promhttp.InstrumentHandlerDuration(dur, promhttp.InstrumentHandlerCounter(count, next)))
	}
}
