package etcdbench

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/bench"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestEncode(t *testing.T) {
	m := bench.NewMapping(bench.Key(42), 42, 36)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	k, v := Encode(m, now)
	if k != Prefix+m.Key || !strings.HasPrefix(k, "/cellmap/instance_mappings/") {
		t.Fatalf("key %q", k)
	}
	var back Value
	if err := json.Unmarshal([]byte(v), &back); err != nil {
		t.Fatal(err)
	}
	if back.CellUUID != m.CellUUID || back.ProjectID != m.ProjectID || back.UserID != m.UserID || !back.CreatedAt.Equal(now) {
		t.Fatalf("value %+v", back)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{context.DeadlineExceeded, bench.KindTimeout},
		{rpctypes.ErrGRPCNoLeader, bench.KindUnavailable},
		{status.Error(codes.Unavailable, "conn refused"), bench.KindUnavailable},
		{status.Error(codes.DeadlineExceeded, "slow"), bench.KindTimeout},
		{status.Error(codes.InvalidArgument, "too many operations in txn request"), bench.KindClient},
		{status.Error(codes.Internal, "boom"), bench.KindServer},
		{errors.New("eof"), bench.KindTransport},
	}
	for _, c := range cases {
		if got := bench.Classify(classify(c.err)); got != c.want {
			t.Errorf("classify(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestListUnsupported(t *testing.T) {
	tg := &Target{}
	if err := tg.Check(context.Background(), bench.WorkloadList); !errors.Is(err, bench.ErrUnsupported) {
		t.Fatalf("Check(list) = %v", err)
	}
	if _, err := tg.List(context.Background(), 0, "", 10); !errors.Is(err, bench.ErrUnsupported) {
		t.Fatalf("List = %v", err)
	}
	if tg.Name() != "etcd" {
		t.Fatal(tg.Name())
	}
	if err := WaitCluster(context.Background(), []string{"10.0.0.1:2379"}, 1, time.Second); !errors.Is(err, bench.ErrNotLoopback) {
		t.Fatalf("remote endpoint: %v", err)
	}
}
