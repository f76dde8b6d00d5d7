// Package gossip joins a process to cellmap's memberlist pool, shared by cellmapd nodes and
// cell conductors. Each member advertises an [api.GossipMeta] (role, cell, HTTP address); a
// [Handler] hears joins, leaves and failures. Timing comes from a named profile ("lan",
// "local", "test"), so deployments and tests differ by configuration, not code.
package gossip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/memberlist"
)

// Member is one member of the pool as this process sees it.
type Member struct {
	Name  string
	Addr  string
	Meta  api.GossipMeta
	Alive bool
}

// Handler hears membership changes. Calls come from memberlist's goroutine, one at a time;
// they must not block.
type Handler interface {
	MemberJoin(m Member)
	MemberLeave(m Member)
	MemberUpdate(m Member)
}

// Config configures a pool member.
type Config struct {
	// Name must be unique in the pool (e.g. "server/n1", "conductor/<cell>/<host>").
	Name string
	// BindAddr is the UDP and TCP host:port to listen on; AdvertiseAddr (default BindAddr) is
	// what others use.
	BindAddr      string
	AdvertiseAddr string
	// Join lists members to contact at start (host:port).
	Join []string
	// Profile names the timings: "lan" (memberlist's LAN defaults), "local" (loopback), or
	// "test" (fast failure detection: a dead member is declared within about a second).
	Profile string
	// Meta is advertised to the pool.
	Meta api.GossipMeta
	// Handler hears membership changes; may be nil.
	Handler Handler
	// Keys, when set, encrypt and authenticate every gossip message (AES-GCM): Keys[0] is the
	// primary, the others are accepted too (a rotation in progress). A member without one of
	// them is never seen.
	Keys [][]byte
	// KeyFile, when set, is where Keys came from: keyring changes (KeyOp) are written back.
	KeyFile string
	// Logger receives memberlist's messages; nil discards them.
	Logger hclog.Logger
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Name == "" {
		return errors.New("gossip: Name is required")
	}
	if _, _, err := net.SplitHostPort(c.BindAddr); err != nil {
		return fmt.Errorf("gossip: BindAddr: %w", err)
	}
	if _, err := Profile(c.Profile); err != nil {
		return err
	}
	if b, _ := json.Marshal(c.Meta); len(b) > memberlist.MetaMaxSize {
		return fmt.Errorf("gossip: metadata is %d bytes, more than %d", len(b), memberlist.MetaMaxSize)
	}
	return nil
}

// Profile returns memberlist's configuration for a named profile.
func Profile(name string) (*memberlist.Config, error) {
	switch name {
	case "lan", "":
		return memberlist.DefaultLANConfig(), nil
	case "local":
		return memberlist.DefaultLocalConfig(), nil
	case "test":
		c := memberlist.DefaultLocalConfig()
		c.ProbeInterval, c.ProbeTimeout = 200*time.Millisecond, 100*time.Millisecond
		c.SuspicionMult, c.SuspicionMaxTimeoutMult = 2, 2
		c.GossipInterval, c.GossipNodes, c.GossipToTheDeadTime = 50*time.Millisecond, 3, 2*time.Second
		c.PushPullInterval, c.TCPTimeout, c.IndirectChecks = 2*time.Second, time.Second, 2
		return c, nil
	}
	return nil, fmt.Errorf("gossip: unknown profile %q (want lan, local or test)", name)
}

// Gossip is this process's membership in the pool.
type Gossip struct {
	ml     *memberlist.Memberlist
	cfg    Config
	logger hclog.Logger
	fail   *failures

	keyring  *memberlist.Keyring // nil without encryption; memberlist reads it live
	keyMu    sync.Mutex          // serializes keyring changes and their saves
	calls    keyCalls            // pool keyring operations waiting for answers (keyquery.go)
	stopOnce sync.Once
	stop     chan struct{}
	loopDone chan struct{}
}

// New starts listening and gossiping; call Join to contact the pool.
func New(cfg *Config) (*Gossip, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	mc, _ := Profile(cfg.Profile)
	host, port, _ := net.SplitHostPort(cfg.BindAddr)
	mc.Name, mc.BindAddr = cfg.Name, host
	mc.BindPort, _ = strconv.Atoi(port)
	mc.AdvertiseAddr, mc.AdvertisePort = host, mc.BindPort
	if cfg.AdvertiseAddr != "" {
		ah, ap, err := net.SplitHostPort(cfg.AdvertiseAddr)
		if err != nil {
			return nil, fmt.Errorf("gossip: AdvertiseAddr: %w", err)
		}
		mc.AdvertiseAddr = ah
		mc.AdvertisePort, _ = strconv.Atoi(ap)
	}
	g := &Gossip{cfg: *cfg, logger: cfg.Logger, fail: &failures{failed: map[string]failure{}},
		stop: make(chan struct{}), loopDone: make(chan struct{}), calls: keyCalls{waiting: map[uint64]chan keyResponse{}}}
	if g.logger == nil {
		g.logger = hclog.NewNullLogger()
	}
	meta, _ := json.Marshal(cfg.Meta)
	mc.Delegate = &delegate{meta: meta, g: g}
	mc.Events = &events{h: cfg.Handler, fail: g.fail}
	mc.Logger = g.logger.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true})
	kr, err := keyring(cfg.Keys)
	if err != nil {
		return nil, err
	}
	if kr != nil {
		mc.Keyring, mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = kr, true, true
		g.keyring = kr
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("gossip: %w", err)
	}
	g.ml = ml
	go g.reconnectLoop(g.stop)
	return g, nil
}

// Join contacts the configured members, retrying until one answers or ctx ends. With no
// members to join it returns at once (this process starts the pool).
func (g *Gossip) Join(ctx context.Context) error {
	if len(g.cfg.Join) == 0 {
		return nil
	}
	for {
		n, err := g.ml.Join(g.cfg.Join)
		if n > 0 {
			return nil
		}
		g.logger.Warn("gossip join failed; retrying", "error", err)
		t := time.NewTimer(500 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("gossip: join %v: %w (last error: %v)", g.cfg.Join, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// Members returns the members this process knows, alive or not.
func (g *Gossip) Members() []Member {
	nodes := g.ml.Members()
	out := make([]Member, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, toMember(n))
	}
	return out
}

// FailedSince reports when the member called name failed or left, while it has not come
// back (a failed member is forgotten after the reconnect timeout: 24 h, 10 min in the test
// profile).
func (g *Gossip) FailedSince(name string) (time.Time, bool) { return g.fail.since(name) }

// LocalAddr is the address this member advertises.
func (g *Gossip) LocalAddr() string {
	n := g.ml.LocalNode()
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// Leave tells the pool this member is going, then stops gossiping.
func (g *Gossip) Leave(timeout time.Duration) error {
	g.stopReconnect()
	err := g.ml.Leave(timeout)
	if serr := g.ml.Shutdown(); err == nil {
		err = serr
	}
	return err
}

// Shutdown stops gossiping without a goodbye (others will see a failure).
func (g *Gossip) Shutdown() error {
	g.stopReconnect()
	return g.ml.Shutdown()
}

func (g *Gossip) stopReconnect() {
	g.stopOnce.Do(func() { close(g.stop) })
	<-g.loopDone
}

func toMember(n *memberlist.Node) Member {
	m := Member{Name: n.Name, Addr: n.Address(), Alive: n.State == memberlist.StateAlive || n.State == memberlist.StateSuspect}
	json.Unmarshal(n.Meta, &m.Meta)
	return m
}

// delegate advertises fixed metadata and hands user messages (keyring operations) to g.
type delegate struct {
	meta []byte
	g    *Gossip
}

func (d *delegate) NodeMeta(limit int) []byte                  { return d.meta }
func (d *delegate) NotifyMsg(b []byte)                         { d.g.handleMessage(b) }
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte                { return nil }
func (d *delegate) MergeRemoteState(buf []byte, join bool)     {}

var _ memberlist.Delegate = (*delegate)(nil)

// events tracks failures for the reconnect loop and adapts memberlist's events to a Handler
// (h may be nil).
type events struct {
	h    Handler
	fail *failures
}

var _ memberlist.EventDelegate = (*events)(nil)

func (e *events) NotifyJoin(n *memberlist.Node) {
	e.fail.alive(n)
	if e.h != nil {
		e.h.MemberJoin(toMember(n))
	}
}

func (e *events) NotifyLeave(n *memberlist.Node) {
	e.fail.failedNode(n)
	if e.h != nil {
		m := toMember(n)
		m.Alive = false
		e.h.MemberLeave(m)
	}
}

func (e *events) NotifyUpdate(n *memberlist.Node) {
	if e.h != nil {
		e.h.MemberUpdate(toMember(n))
	}
}
