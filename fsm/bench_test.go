package fsm

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// BenchmarkApplyBatchCreates applies raft batches of 64 new instance mappings (random uuids,
// a few projects, two cells) to a state that already holds 100,000: the FSM's share of a
// create.
func BenchmarkApplyBatchCreates(b *testing.B) {
	f := openBenchFSM(b)
	rng := rand.New(rand.NewSource(1))
	now := time.Now().UTC()
	index := f.AppliedIndex()
	mk := func() *raft.Log {
		index++
		u := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.Intn(1<<16), rng.Intn(1<<12), rng.Intn(1<<12), rng.Int63n(1<<48))
		cell := []string{cellA, cellB}[rng.Intn(2)]
		c := &Txn{Ops: []Op{{Kind: OpPut, Table: TableInstanceMappings, IfAbsent: true,
			Record: &InstanceMapping{InstanceUUID: u, CellUUID: cell, ProjectID: fmt.Sprintf("project-%d", rng.Intn(8)), UserID: "user"}}}}
		return &raft.Log{Index: index, Type: raft.LogCommand, Data: Encode(c, now)}
	}
	batch := func(n int) []*raft.Log {
		logs := make([]*raft.Log, n)
		for i := range logs {
			logs[i] = mk()
		}
		return logs
	}
	for i := 0; i < 100000/1000; i++ {
		f.ApplyBatch(batch(1000))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		logs := batch(64)
		b.StartTimer()
		for _, r := range f.ApplyBatch(logs) {
			if r.(*Result).Err != nil {
				b.Fatal(r.(*Result).Err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64)/1000, "µs/create")
}

func openBenchFSM(b *testing.B) *FSM {
	cfg := DefaultConfig(filepath.Join(b.TempDir(), "fsm.db"))
	f, err := Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	tf := &testFSM{FSM: f, t: b, now: time.Now()}
	tf.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	tf.mustApply(createCell(cellB, "b", "rabbit://b", "mysql://b"))
	return f
}
