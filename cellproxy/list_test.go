package cellproxy_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/node"
)

// countingStore counts the reads of the state.
type countingStore struct {
	cellproxy.Store
	reads atomic.Int32
}

func (s *countingStore) Read(ctx context.Context, c node.Consistency, fn func(r *fsm.Reader) error) (node.ReadInfo, error) {
	s.reads.Add(1)
	return s.Store.Read(ctx, c, fn)
}

// TestMarkerPagedListingReadsOnce: the listing's state and its marker come from one read.
func TestMarkerPagedListingReadsOnce(t *testing.T) {
	const older, newer = "a0000000-0000-4000-8000-000000000001", "b0000000-0000-4000-8000-000000000002"
	n := testcluster.StartNode(t, nil).Node
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, uuid := range []string{older, newer} { // two servers still building
		at := created.Add(time.Duration(i) * time.Minute)
		spec := fsm.ServerSpec{Name: uuid[:1], ProjectID: "p1", UserID: "u1", Flavor: fsm.Flavor{ID: "1", Name: "f1", VCPUs: 1, RAMMB: 512}}
		res, err := n.Apply(ctxT(t), &fsm.Txn{Ops: []fsm.Op{
			{Kind: fsm.OpPut, Table: fsm.TableBuildRequests, Record: &fsm.ServerRequest{InstanceUUID: uuid, Spec: spec, CreatedAt: at}},
			{Kind: fsm.OpPut, Table: fsm.TableInstanceMappings, Record: &fsm.InstanceMapping{InstanceUUID: uuid, ProjectID: "p1", CreatedAt: at}},
		}})
		if err != nil || res.Err != nil {
			t.Fatalf("write build request: %v %v", err, res)
		}
	}
	store := &countingStore{Store: n}
	p, err := cellproxy.New(cellproxy.DefaultConfig(), store, cellproxy.NewRegistry(time.Second, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	list, err := p.ListServers(ctxT(t), api.ServerQuery{AllTenants: true, Marker: newer, Limit: 10, Paged: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(list.Servers); len(got) != 1 || got[0] != older {
		t.Fatalf("servers after the marker (newest first): got %v, want [%s]", got, older)
	}
	if reads := store.reads.Load(); reads != 1 {
		t.Fatalf("the listing read the state %d times, want once", reads)
	}
}
