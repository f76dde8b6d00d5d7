package check

import (
	"github.com/cellmap/cellmap/jepsen/history"
)

// hb builds synthetic histories; times are in milliseconds for readability.
type hb struct {
	events []history.Event
	nextOp int64
}

func (b *hb) add(e history.Event) {
	e.Seq = int64(len(b.events) + 1)
	b.events = append(b.events, e)
}

// op records an invoke at t0 and its completion at t1 (ms); done carries the result fields.
func (b *hb) op(t0, t1 int64, inv history.Event, kind history.Kind, done history.Event) {
	b.nextOp++
	inv.Kind, inv.Op, inv.Time = history.KindInvoke, b.nextOp, t0*1e6
	b.add(inv)
	done.Kind, done.Op, done.Time = kind, b.nextOp, t1*1e6
	done.Workload, done.F, done.Key, done.Node, done.Process = inv.Workload, inv.F, inv.Key, inv.Node, inv.Process
	b.add(done)
}

func (b *hb) read(t0, t1 int64, p int, node, key, value string, rev uint64) {
	b.op(t0, t1, history.Event{Process: p, Workload: "register", F: "read", Key: key, Node: node}, history.KindOK,
		history.Event{Value: value, Rev: rev, ServerIndex: rev + 1})
}

func (b *hb) write(t0, t1 int64, p int, key, value string, kind history.Kind, rev uint64) {
	b.op(t0, t1, history.Event{Process: p, Workload: "register", F: "write", Key: key, Node: "n1", Value: value}, kind,
		history.Event{Value: value, Rev: rev})
}

func (b *hb) phase(t int64, f string, ep int) {
	b.add(history.Event{Kind: history.KindPhase, F: f, Time: t * 1e6, Episode: ep})
}

func (b *hb) status(t int64, node, state string, term uint64, voters ...string) {
	b.add(history.Event{Kind: history.KindStatus, Time: t * 1e6, Node: node,
		Status: &history.Status{State: state, Term: term, Servers: voters}})
}
