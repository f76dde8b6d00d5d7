package gossip

import (
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Memberlist stops probing and gossiping to a member once it declared it dead, so after a
// partition heals each side would go on believing the other dead for good (a cell cut off
// from the servers would stay "down" although its conductor is back). As Serf does, the
// Gossip remembers the members that failed and joins them again every reconnect interval:
// the push/pull exchange tells each side that the other holds it dead, both refute with a
// new incarnation, and the pool is whole again. When this process knows no live member at
// all, it also retries the configured Join addresses (it may have started, or been cut off,
// while they were all away).

// reconnectTiming is how often failed members are retried and how long they are remembered.
func reconnectTiming(profile string) (every, forget time.Duration) {
	switch profile {
	case "test":
		return 500 * time.Millisecond, 10 * time.Minute
	case "local":
		return 5 * time.Second, 24 * time.Hour
	}
	return 30 * time.Second, 24 * time.Hour
}

// failures tracks the members that failed, by name.
type failures struct {
	mu     sync.Mutex
	failed map[string]failure
}

type failure struct {
	addr  string
	since time.Time
}

// failed records a member memberlist declared dead or gone. Its event does not tell a
// failure from a graceful leave, so a member that left is retried too; a join to a stopped
// process is refused at once, and the member is forgotten after the reconnect timeout.
func (f *failures) failedNode(n *memberlist.Node) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.failed[n.Name]; !ok {
		f.failed[n.Name] = failure{addr: n.Address(), since: time.Now()}
	}
}

// alive forgets a member that is alive again.
func (f *failures) alive(n *memberlist.Node) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.failed, n.Name)
}

// since returns when the member called name failed, if it is failed and not forgotten.
func (f *failures) since(name string) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl, ok := f.failed[name]
	return fl.since, ok
}

// due returns the addresses to retry now, forgetting members failed longer than forget.
func (f *failures) due(now time.Time, forget time.Duration) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for name, fl := range f.failed {
		if now.Sub(fl.since) > forget {
			delete(f.failed, name)
			continue
		}
		out = append(out, fl.addr)
	}
	sort.Strings(out)
	return out
}

// reconnectLoop retries failed members (and the Join addresses when no other member is alive)
// until stop is closed.
func (g *Gossip) reconnectLoop(stop <-chan struct{}) {
	defer close(g.loopDone)
	every, forget := reconnectTiming(g.cfg.Profile)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		addrs := g.fail.due(time.Now(), forget)
		if g.ml.NumMembers() <= 1 {
			addrs = append(addrs, g.cfg.Join...)
		}
		if len(addrs) == 0 {
			continue
		}
		if n, err := g.ml.Join(addrs); n > 0 {
			g.logger.Info("gossip: reconnected", "contacted", n, "tried", len(addrs))
		} else {
			g.logger.Debug("gossip: reconnect failed", "tried", addrs, "error", err)
		}
	}
}
