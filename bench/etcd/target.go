// Package etcdbench is the etcd side of cellmap's side-by-side benchmark: a bench.Target on
// etcd's native gRPC client (go.etcd.io/etcd/client/v3), the way etcd's users would keep
// instance mappings in it. It lives in its own module so etcd's client never becomes a
// dependency of cellmap.
//
// A mapping is the key Prefix+instance_uuid holding the JSON of the record cellmap keeps
// (cell_uuid, project_id, user_id, created_at, updated_at). Operations:
//
//	lookup        Get (linearizable, etcd's default)
//	lookup-stale  Get with clientv3.WithSerializable()
//	create, put   Put
//	cas           Txn(If(ModRevision(key) == rev)).Then(Put).Else(Get)
//	bulk          one Txn of puts (start etcd with --max-txn-ops >= the batch size)
package etcdbench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/bench"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Prefix is the key prefix of instance mappings.
const Prefix = "/cellmap/instance_mappings/"

// Target drives etcd with clientv3 clients (each one gRPC connection) to every endpoint;
// worker w uses client w mod n, so workers spread over the endpoints like cellmap's.
type Target struct {
	endpoints []string // of each client
	clients   []*clientv3.Client
}

var _ bench.Target = (*Target)(nil)

// New connects one client to every endpoint ("host:port" of etcd's client URL): one gRPC
// connection per endpoint shared by the workers, the way a service uses etcd.
func New(endpoints []string) (*Target, error) { return NewConns(endpoints, 1, nil) }

// NewConns connects perEndpoint clients (connections) to every endpoint, with TLS and a user
// when sec says so (nil: plaintext, no authentication).
func NewConns(endpoints []string, perEndpoint int, sec *bench.Security) (*Target, error) {
	if perEndpoint < 1 {
		perEndpoint = 1
	}
	base, err := clientConfig(sec)
	if err != nil {
		return nil, err
	}
	t := &Target{}
	for i := 0; i < perEndpoint; i++ {
		for _, e := range endpoints {
			cfg := base
			cfg.Endpoints = []string{e}
			c, err := clientv3.New(cfg)
			if err != nil {
				t.Close()
				return nil, fmt.Errorf("etcd %s: %w", e, err)
			}
			t.clients, t.endpoints = append(t.clients, c), append(t.endpoints, e)
		}
	}
	return t, nil
}

// clientConfig is the clientv3 configuration of sec, without endpoints.
func clientConfig(sec *bench.Security) (clientv3.Config, error) {
	cfg := clientv3.Config{DialTimeout: 5 * time.Second, Logger: zap.NewNop()}
	tlsConf, err := sec.TLS()
	if err != nil {
		return cfg, err
	}
	password, err := sec.Password()
	if err != nil {
		return cfg, err
	}
	cfg.TLS = tlsConf
	if password != "" {
		cfg.Username, cfg.Password = sec.User, password
	}
	return cfg, nil
}

func (t *Target) c(w int) *clientv3.Client { return t.clients[w%len(t.clients)] }

// Name implements bench.Target.
func (t *Target) Name() string { return "etcd" }

// Check implements bench.Target: every endpoint must answer Status; list has no etcd
// equivalent.
func (t *Target) Check(ctx context.Context, workload string) error {
	if workload == bench.WorkloadList {
		return fmt.Errorf("%w: list is cellmap's cross-cell server listing; etcd has no equivalent", bench.ErrUnsupported)
	}
	for i, c := range t.clients {
		if _, err := c.Status(ctx, t.endpoints[i]); err != nil {
			return fmt.Errorf("%s: %w", t.endpoints[i], classify(err))
		}
	}
	return nil
}

// Setup implements bench.Target (nothing to prepare).
func (t *Target) Setup(context.Context) error { return nil }

// Value is the JSON stored per mapping: the fields of cellmap's instance mapping record.
type Value struct {
	CellUUID  string    `json:"cell_uuid"`
	ProjectID string    `json:"project_id"`
	UserID    string    `json:"user_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Encode returns the key and value of m.
func Encode(m bench.Mapping, now time.Time) (string, string) {
	v, _ := json.Marshal(Value{CellUUID: m.CellUUID, ProjectID: m.ProjectID, UserID: m.UserID, CreatedAt: now, UpdatedAt: now})
	return Prefix + m.Key, string(v)
}

func (t *Target) get(ctx context.Context, w int, key string, opts ...clientv3.OpOption) (uint64, error) {
	resp, err := t.c(w).Get(ctx, Prefix+key, opts...)
	if err != nil {
		return 0, classify(err)
	}
	if len(resp.Kvs) == 0 {
		return 0, fmt.Errorf("%w: %s", bench.ErrNotFound, key)
	}
	return uint64(resp.Kvs[0].ModRevision), nil
}

// Lookup implements bench.Target (linearizable Get).
func (t *Target) Lookup(ctx context.Context, w int, key string) (uint64, error) {
	return t.get(ctx, w, key)
}

// LookupStale implements bench.Target (serializable Get).
func (t *Target) LookupStale(ctx context.Context, w int, key string) (uint64, error) {
	return t.get(ctx, w, key, clientv3.WithSerializable())
}

// Create implements bench.Target (Put).
func (t *Target) Create(ctx context.Context, w int, m bench.Mapping) (uint64, error) {
	return t.Put(ctx, w, m)
}

// Put implements bench.Target.
func (t *Target) Put(ctx context.Context, w int, m bench.Mapping) (uint64, error) {
	k, v := Encode(m, time.Now().UTC())
	resp, err := t.c(w).Put(ctx, k, v)
	if err != nil {
		return 0, classify(err)
	}
	return uint64(resp.Header.Revision), nil
}

// CAS implements bench.Target: Txn(If(ModRevision == rev)).Then(Put).Else(Get), after a
// linearizable Get when rev is 0. A refused write returns the current revision.
func (t *Target) CAS(ctx context.Context, w int, m bench.Mapping, rev uint64) (uint64, error) {
	if rev == 0 {
		cur, err := t.Lookup(ctx, w, m.Key)
		if err != nil {
			return 0, err
		}
		rev = cur
	}
	k, v := Encode(m, time.Now().UTC())
	resp, err := t.c(w).Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(k), "=", int64(rev))).
		Then(clientv3.OpPut(k, v)).
		Else(clientv3.OpGet(k)).
		Commit()
	if err != nil {
		return 0, classify(err)
	}
	if resp.Succeeded {
		return uint64(resp.Header.Revision), nil
	}
	var cur uint64
	if len(resp.Responses) > 0 {
		if rr := resp.Responses[0].GetResponseRange(); rr != nil && len(rr.Kvs) > 0 {
			cur = uint64(rr.Kvs[0].ModRevision)
		}
	}
	return cur, fmt.Errorf("%w: %s changed since revision %d", bench.ErrConflict, m.Key, rev)
}

// Bulk implements bench.Target: one Txn of puts.
func (t *Target) Bulk(ctx context.Context, w int, batch []bench.Mapping) (uint64, error) {
	now := time.Now().UTC()
	ops := make([]clientv3.Op, len(batch))
	for i, m := range batch {
		k, v := Encode(m, now)
		ops[i] = clientv3.OpPut(k, v)
	}
	resp, err := t.c(w).Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return 0, classify(err)
	}
	return uint64(resp.Header.Revision), nil
}

// List implements bench.Target: not offered.
func (t *Target) List(context.Context, int, string, int) (int, error) {
	return 0, bench.ErrUnsupported
}

// Close implements bench.Target.
func (t *Target) Close() error {
	var errs []error
	for _, c := range t.clients {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// classify maps an etcd client error to a report kind.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	if errors.Is(err, rpctypes.ErrNoLeader) || errors.Is(err, rpctypes.ErrGRPCNoLeader) {
		return bench.WithKind(bench.KindUnavailable, err)
	}
	st, ok := status.FromError(err)
	if !ok {
		return bench.WithKind(bench.KindTransport, err)
	}
	switch st.Code() {
	case codes.DeadlineExceeded:
		return bench.WithKind(bench.KindTimeout, err)
	case codes.Canceled:
		return bench.WithKind(bench.KindCanceled, err)
	case codes.Unavailable:
		return bench.WithKind(bench.KindUnavailable, err)
	case codes.InvalidArgument, codes.FailedPrecondition, codes.ResourceExhausted, codes.OutOfRange,
		codes.NotFound, codes.AlreadyExists, codes.PermissionDenied, codes.Unauthenticated:
		return bench.WithKind(bench.KindClient, err)
	}
	return bench.WithKind(bench.KindServer, err)
}
