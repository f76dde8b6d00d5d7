package fsm

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// createGen makes raft entries that each create one instance mapping with a random uuid (a
// few projects, two cells), numbered on from the FSM's applied index.
type createGen struct {
	rng   *rand.Rand
	now   time.Time
	index uint64
}

func newCreateGen(f *FSM) *createGen {
	return &createGen{rng: rand.New(rand.NewSource(1)), now: time.Now().UTC(), index: f.AppliedIndex()}
}

func (g *createGen) batch(n int) []*raft.Log {
	logs := make([]*raft.Log, n)
	for i := range logs {
		g.index++
		r := g.rng
		u := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.Intn(1<<16), r.Intn(1<<12), r.Intn(1<<12), r.Int63n(1<<48))
		cell := []string{cellA, cellB}[r.Intn(2)]
		c := &Txn{Ops: []Op{{Kind: OpPut, Table: TableInstanceMappings, IfAbsent: true,
			Record: &InstanceMapping{InstanceUUID: u, CellUUID: cell, ProjectID: fmt.Sprintf("project-%d", r.Intn(8)), UserID: "user"}}}}
		logs[i] = &raft.Log{Index: g.index, Type: raft.LogCommand, Data: Encode(c, g.now)}
	}
	return logs
}

// mustApplyBatch applies logs in one transaction and fails b on a domain error.
func mustApplyBatch(b *testing.B, f *FSM, logs []*raft.Log) {
	for _, r := range f.ApplyBatch(logs) {
		if r.(*Result).Err != nil {
			b.Fatal(r.(*Result).Err)
		}
	}
}

// BenchmarkApplyBatchCreates applies raft batches of 64 new instance mappings (random uuids,
// a few projects, two cells) to a state that already holds 100,000: the FSM's share of a
// create.
func BenchmarkApplyBatchCreates(b *testing.B) {
	f := openBenchFSM(b)
	g := newCreateGen(f)
	for i := 0; i < 100000/1000; i++ {
		f.ApplyBatch(g.batch(1000))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		logs := g.batch(64)
		b.StartTimer()
		mustApplyBatch(b, f, logs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64)/1000, "µs/create")
}

// commitEveryCreates is the number of creates one iteration of BenchmarkApplyCommitEvery
// applies, whatever the commit interval, so every interval grows the tree alike.
const commitEveryCreates = 8192

// BenchmarkApplyCommitEvery measures what committing the state less often than once per raft
// batch would buy (etcd commits its backend every 100 ms or 10,000 writes): each iteration
// applies 8,192 random-uuid creates to a state of 100,000 mappings, committing the bbolt
// transaction every N entries. It reports the time and the pwrite calls (one page each but
// for overflow pages, the meta page included) per create. Production commits once per raft
// batch (up to MaxAppendEntries entries, 64 at 64 clients); the larger intervals are what a
// deferred commit would pay, before the cost of merging reads over the uncommitted writes.
func BenchmarkApplyCommitEvery(b *testing.B) {
	for _, every := range []int{32, 64, 128, 512, 2048} {
		b.Run(fmt.Sprintf("every=%d", every), func(b *testing.B) {
			f := openBenchFSM(b)
			g := newCreateGen(f)
			for i := 0; i < 100000/1000; i++ {
				f.ApplyBatch(g.batch(1000))
			}
			writes := pwrites(f)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				batches := make([][]*raft.Log, 0, commitEveryCreates/every)
				for n := 0; n < commitEveryCreates; n += every {
					batches = append(batches, g.batch(every))
				}
				b.StartTimer()
				for _, logs := range batches {
					mustApplyBatch(b, f, logs)
				}
			}
			creates := float64(b.N * commitEveryCreates)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/creates/1000, "µs/create")
			b.ReportMetric(float64(pwrites(f)-writes)/creates, "pwrites/create")
		})
	}
}

// pwrites is the number of pwrite calls the state file's transactions made so far.
func pwrites(f *FSM) int64 {
	st := f.db.Stats()
	return st.TxStats.GetWrite()
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
