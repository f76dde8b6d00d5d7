package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// CellmapTarget drives cellmap through its Go client, one client (with its own keep-alive
// connection pool) per endpoint; worker w uses endpoint w mod n. With RouteWritesLeader the
// clients send writes straight to the leader (client.Config.LeaderWrites).
type CellmapTarget struct {
	clients []*client.Client
}

// Write routings of a CellmapTarget (cellmap-bench --route-writes).
const (
	// RouteWritesLeader sends every write straight to the leader's endpoint, which every
	// answer names (client.Config.LeaderWrites); reads stay on the worker's endpoint.
	RouteWritesLeader = "leader"
	// RouteWritesAny sends writes to the worker's endpoint like reads: a follower forwards
	// them to the leader over the raft port.
	RouteWritesAny = "any"
)

// ValidRouteWrites checks a write routing.
func ValidRouteWrites(route string) error {
	switch route {
	case RouteWritesLeader, RouteWritesAny:
		return nil
	}
	return fmt.Errorf("write routing %q: want %s or %s", route, RouteWritesLeader, RouteWritesAny)
}

var _ Target = (*CellmapTarget)(nil)

// NewCellmapTarget returns a target over the plain HTTP endpoints ("host:port") that sends
// token.
func NewCellmapTarget(endpoints []string, token string) *CellmapTarget {
	t := &CellmapTarget{}
	for _, e := range endpoints {
		t.clients = append(t.clients, client.New(e, nil).WithToken(token))
	}
	return t
}

// NewSecureCellmapTarget returns a target over the endpoints with the TLS configuration and
// token of sec (nil or zero: plain HTTP, as NewCellmapTarget) that routes writes as
// routeWrites says (RouteWritesLeader or RouteWritesAny).
func NewSecureCellmapTarget(endpoints []string, sec *Security, routeWrites string) (*CellmapTarget, error) {
	if err := ValidRouteWrites(routeWrites); err != nil {
		return nil, err
	}
	tlsConf, err := sec.TLS()
	if err != nil {
		return nil, err
	}
	token, err := sec.Token()
	if err != nil {
		return nil, err
	}
	t := &CellmapTarget{}
	for _, e := range endpoints {
		c, err := client.NewWithConfig(&client.Config{Addr: e, TLS: tlsConf, Token: token, LeaderWrites: routeWrites == RouteWritesLeader})
		if err != nil {
			return nil, err
		}
		t.clients = append(t.clients, c)
	}
	return t, nil
}

func (t *CellmapTarget) c(w int) *client.Client { return t.clients[w%len(t.clients)] }

// Name implements Target.
func (t *CellmapTarget) Name() string { return "cellmap" }

// Check implements Target: every endpoint must answer /healthz (cheap, unlike the cluster
// status, which digests the whole state); list needs GET /v1/servers.
func (t *CellmapTarget) Check(ctx context.Context, workload string) error {
	for _, c := range t.clients {
		if _, err := c.Do(ctx, http.MethodGet, "/healthz", nil, nil, nil); err != nil {
			return fmt.Errorf("%s: %w", c.Addr(), err)
		}
	}
	if workload != WorkloadList {
		return nil
	}
	_, err := t.List(ctx, 0, "", 1)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: GET /v1/servers answers 404 on %s: the cross-cell server listing (cellproxy) is not served by this build", ErrUnsupported, t.c(0).Addr())
	}
	return err
}

// Setup implements Target: it maps the cell the benchmark's mappings point at.
func (t *CellmapTarget) Setup(ctx context.Context) error {
	c := t.c(0)
	if _, err := c.Cell(ctx, BenchCellUUID); err == nil {
		return nil
	} else if !client.IsNotFound(err) {
		return err
	}
	_, err := c.CreateCell(ctx, api.CellCreate{UUID: BenchCellUUID, Name: "cellmap-bench",
		TransportURL:       "rabbit://bench:bench@127.0.0.1:5672/cellmap-bench",
		DatabaseConnection: "mysql+pymysql://bench:bench@127.0.0.1/cellmap_bench"})
	if client.CodeOf(err) == api.CodeAlreadyExists {
		return nil
	}
	return err
}

// Lookup implements Target (linearizable GET).
func (t *CellmapTarget) Lookup(ctx context.Context, w int, key string) (uint64, error) {
	m, _, err := t.c(w).InstanceMapping(ctx, key)
	if err != nil {
		return 0, cellmapErr(err)
	}
	return m.Revision, nil
}

// LookupStale implements Target (consistency=stale).
func (t *CellmapTarget) LookupStale(ctx context.Context, w int, key string) (uint64, error) {
	m, _, err := t.c(w).InstanceMapping(ctx, key, client.Stale(0))
	if err != nil {
		return 0, cellmapErr(err)
	}
	return m.Revision, nil
}

func putBody(m Mapping) api.InstanceMappingPut {
	cell, user := m.CellUUID, m.UserID
	return api.InstanceMappingPut{ProjectID: m.ProjectID, CellUUID: &cell, UserID: &user}
}

// Create implements Target (PUT with If-None-Match: *).
func (t *CellmapTarget) Create(ctx context.Context, w int, m Mapping) (uint64, error) {
	return t.put(ctx, w, m, client.Condition{IfAbsent: true})
}

// Put implements Target (unconditional PUT).
func (t *CellmapTarget) Put(ctx context.Context, w int, m Mapping) (uint64, error) {
	return t.put(ctx, w, m, client.Condition{})
}

// CAS implements Target: PUT with If-Match: rev, after a linearizable read when rev is 0.
// A refused write returns revision 0 (the 412 answer does not carry the current revision).
func (t *CellmapTarget) CAS(ctx context.Context, w int, m Mapping, rev uint64) (uint64, error) {
	if rev == 0 {
		cur, err := t.Lookup(ctx, w, m.Key)
		if err != nil {
			return 0, err
		}
		rev = cur
	}
	return t.put(ctx, w, m, client.Condition{IfRevision: rev})
}

func (t *CellmapTarget) put(ctx context.Context, w int, m Mapping, cond client.Condition) (uint64, error) {
	out, _, err := t.c(w).PutInstanceMapping(ctx, m.Key, putBody(m), cond)
	if err != nil {
		return 0, cellmapErr(err)
	}
	return out.Revision, nil
}

// Bulk implements Target: one POST /v1/txn of put ops.
func (t *CellmapTarget) Bulk(ctx context.Context, w int, batch []Mapping) (uint64, error) {
	ops := make([]api.TxnOp, len(batch))
	for i, m := range batch {
		cell, user := m.CellUUID, m.UserID
		ops[i] = api.TxnOp{Op: "put", Table: "instance_mapping", InstanceMapping: &api.InstanceMappingOp{
			InstanceUUID: m.Key, CellUUID: &cell, ProjectID: m.ProjectID, UserID: &user}}
	}
	res, err := t.c(w).Txn(ctx, ops)
	if err != nil {
		return 0, cellmapErr(err)
	}
	return res.Revision, nil
}

// serverList is the contract of GET /v1/servers.
type serverList struct {
	Servers   []json.RawMessage `json:"servers"`
	DownCells []json.RawMessage `json:"down_cells"`
}

// List implements Target: GET /v1/servers?limit=N&(project_id=P|all_tenants=true), the
// cross-cell listing through cellproxy.
func (t *CellmapTarget) List(ctx context.Context, w int, project string, limit int) (int, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if project != "" {
		q.Set("project_id", project)
	} else {
		q.Set("all_tenants", "true")
	}
	var out serverList
	_, err := t.c(w).Do(ctx, http.MethodGet, "/v1/servers?"+q.Encode(), nil, nil, &out)
	return len(out.Servers), cellmapErr(err)
}

// Close implements Target.
func (t *CellmapTarget) Close() error { return nil }

// cellmapErr classifies an error of the cellmap client.
func cellmapErr(err error) error {
	if err == nil {
		return nil
	}
	var e *client.Error
	switch {
	case client.IsOutcomeUnknown(err):
		return WithKind(KindOutcomeUnknown, err)
	case errors.As(err, &e):
		switch {
		case e.Status == http.StatusPreconditionFailed:
			return fmt.Errorf("%w: %v", ErrConflict, err)
		case e.Status == http.StatusNotFound:
			return fmt.Errorf("%w: %v", ErrNotFound, err)
		case e.Status == http.StatusServiceUnavailable || e.Status == http.StatusTooManyRequests:
			return WithKind(KindUnavailable, err)
		case e.Status == http.StatusGatewayTimeout:
			return WithKind(KindTimeout, err)
		case e.Status >= 500:
			return WithKind(KindServer, err)
		default:
			return WithKind(KindClient, err)
		}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return err
	}
	return WithKind(KindTransport, err)
}
