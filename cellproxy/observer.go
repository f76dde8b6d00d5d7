package cellproxy

import (
	"context"
	"strings"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// Observer hears what the data plane does, for metrics. Calls come from request and
// scheduling goroutines and must be cheap and safe for concurrent use.
type Observer interface {
	// ConductorCall: one request to a cell's conductor, its operation (create, get, list,
	// delete, capacity, compute_hosts, set_mapped, services, stats) and its outcome.
	ConductorCall(cell, op string, d time.Duration, err error)
	// Scheduled: where a server went: "cell", "cell0" (no valid host) or "reschedule" (the
	// leader scheduled a stale build request again).
	Scheduled(outcome string)
	// DownCellListing: a listing answered while some cells were down or late.
	DownCellListing()
	// QuotaReconciled: one quota reconciliation round of the leader and its result (clean,
	// drift, fixed or error).
	QuotaReconciled(result string)
	// QuotaDrift: the projects whose usage the leader last found drifted from their cells (0
	// when this node stops leading).
	QuotaDrift(projects int)
	// QuotaSkipped: the projects the last round could not judge (a cell down).
	QuotaSkipped(projects int)
}

type noObserver struct{}

func (noObserver) ConductorCall(string, string, time.Duration, error) {}
func (noObserver) Scheduled(string)                                   {}
func (noObserver) DownCellListing()                                   {}
func (noObserver) QuotaReconciled(string)                             {}
func (noObserver) QuotaDrift(int)                                     {}
func (noObserver) QuotaSkipped(int)                                   {}

// conductorOp names a conductor request by its route, for low-cardinality labels.
func conductorOp(method, path string) string {
	path, _, _ = strings.Cut(path, "?")
	switch {
	case path == "/v1/instances" && method == "POST":
		return "create"
	case path == "/v1/instances":
		return "list"
	case strings.HasPrefix(path, "/v1/instances/") && method == "DELETE":
		return "delete"
	case strings.HasPrefix(path, "/v1/instances/"):
		return "get"
	case path == "/v1/capacity":
		return "capacity"
	case path == "/v1/compute-hosts":
		return "compute_hosts"
	case strings.HasSuffix(path, "/mapped"):
		return "set_mapped"
	case path == "/v1/services":
		return "services"
	case path == "/v1/stats":
		return "stats"
	}
	return "other"
}

// observeCall reports a conductor request to the observer, with the cell from ctx.
func (c *cellClient) observeCall(ctx context.Context, method, path string, start time.Time, err error) {
	cell, _ := ctx.Value(cellKey{}).(string)
	c.obs.ConductorCall(cell, conductorOp(method, path), time.Since(start), err)
}

// CellsHealth returns the health of every mapped cell but cell0, by cell uuid (metrics). It
// reads the local state: a scrape must answer while the cluster has no leader.
func (p *Proxy) CellsHealth() map[string]*api.CellHealth {
	var cells []*fsm.Cell
	if err := p.read(context.Background(), node.LocalUnchecked{}, func(r *fsm.Reader) error {
		var err error
		cells, err = r.Cells()
		return err
	}); err != nil {
		return nil
	}
	out := make(map[string]*api.CellHealth, len(cells))
	for _, c := range cells {
		if !c.IsCell0() {
			out[c.UUID] = p.registry.CellHealth(c.UUID)
		}
	}
	return out
}
