package gossip

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/memberlist"

	"github.com/cellmap/cellmap/api"
)

// Pool-wide keyring operations, as `consul keyring` runs them: the member asked sends the
// operation to every alive member over memberlist's reliable channel (TCP, encrypted with the
// pool's key, so only holders of a key can send one), each applies it to its own keyring (and
// key file) and answers. Anyone who holds a pool key can already read and forge all gossip, so
// this adds no power a key holder lacks; the HTTP endpoint that starts it needs admin.

// KeyList asks every member for its keys (read only).
const KeyList = "list"

// Pool keyring errors.
var (
	// ErrInvalidKeyOp: the operation or its key is malformed; nothing was sent.
	ErrInvalidKeyOp = errors.New("invalid keyring operation")
	// ErrKeyNotEverywhere: `use` was refused because some alive member does not hold the key
	// (or did not say): it would stop understanding the pool.
	ErrKeyNotEverywhere = errors.New("the key is not installed on every alive member")
)

// User message kinds (first byte).
const (
	msgKeyRequest  byte = 'K'
	msgKeyResponse byte = 'k'
)

type keyRequest struct {
	ID   uint64 `json:"id"`
	From string `json:"from"`
	Op   string `json:"op"`
	Key  string `json:"key,omitempty"`
}

type keyResponse struct {
	ID   uint64   `json:"id"`
	From string   `json:"from"`
	Keys []string `json:"keys,omitempty"`
	Err  string   `json:"err,omitempty"`
}

// keyCalls tracks this member's pool operations waiting for answers.
type keyCalls struct {
	mu      sync.Mutex
	waiting map[uint64]chan keyResponse
}

func (c *keyCalls) open(id uint64, n int) chan keyResponse {
	ch := make(chan keyResponse, n)
	c.mu.Lock()
	c.waiting[id] = ch
	c.mu.Unlock()
	return ch
}

func (c *keyCalls) close(id uint64) {
	c.mu.Lock()
	delete(c.waiting, id)
	c.mu.Unlock()
}

// deliver hands an answer to its waiting call; late or unknown answers are dropped.
func (c *keyCalls) deliver(r keyResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, ok := c.waiting[r.ID]; ok {
		select {
		case ch <- r:
		default:
		}
	}
}

// handleMessage serves a user message from memberlist's goroutine (it must not block).
func (g *Gossip) handleMessage(b []byte) {
	if len(b) < 2 {
		return
	}
	switch b[0] {
	case msgKeyRequest:
		var req keyRequest
		if json.Unmarshal(b[1:], &req) == nil {
			go g.serveKeyRequest(req)
		}
	case msgKeyResponse:
		var r keyResponse
		if json.Unmarshal(b[1:], &r) == nil {
			g.calls.deliver(r)
		}
	}
}

// serveKeyRequest applies a member's request to this keyring and answers it.
func (g *Gossip) serveKeyRequest(req keyRequest) {
	resp := g.localKeyOp(req.ID, req.Op, req.Key)
	to := g.member(req.From)
	if to == nil {
		g.logger.Warn("keyring request from a member no longer known; not answered", "from", req.From, "op", req.Op)
		return
	}
	if err := g.ml.SendReliable(to, encodeMsg(msgKeyResponse, resp)); err != nil {
		g.logger.Warn("keyring answer not sent", "to", req.From, "op", req.Op, "error", err)
	}
}

// localKeyOp runs an operation on this member's keyring.
func (g *Gossip) localKeyOp(id uint64, op, key string) keyResponse {
	resp := keyResponse{ID: id, From: g.cfg.Name}
	var err error
	if op == KeyList {
		resp.Keys, err = g.Keys()
	} else {
		err = g.KeyOp(op, key)
		g.logger.Info("keyring changed", "op", op, "error", err)
	}
	if err != nil {
		resp.Err = err.Error()
	}
	return resp
}

// member returns the alive member of that name.
func (g *Gossip) member(name string) *memberlist.Node {
	for _, n := range g.ml.Members() {
		if n.Name == name && n.State == memberlist.StateAlive {
			return n
		}
	}
	return nil
}

func encodeMsg(kind byte, v any) []byte {
	b, _ := json.Marshal(v)
	return append([]byte{kind}, b...)
}

// PoolKeyOp runs a keyring operation (list, install, use, remove) on every alive member of the
// pool, this one included, and returns each member's answer; members that do not answer before
// ctx ends are reported as failed. `use` first checks that every alive member holds the key.
func (g *Gossip) PoolKeyOp(ctx context.Context, op, key string) (*api.KeyringResult, error) {
	switch op {
	case KeyList:
	case KeyInstall, KeyUse, KeyRemove:
		if _, err := ParseKey(key); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidKeyOp, err)
		}
	default:
		return nil, fmt.Errorf("%w: unknown operation %q (want list, install, use or remove)", ErrInvalidKeyOp, op)
	}
	if g.keyring == nil {
		return nil, ErrNoEncryption
	}
	if op == KeyUse {
		if err := g.checkEverywhere(ctx, key); err != nil {
			return nil, err
		}
	}
	return g.fanOut(ctx, op, key), nil
}

// checkEverywhere refuses a `use` unless every alive member answered a list holding the key.
func (g *Gossip) checkEverywhere(ctx context.Context, key string) error {
	k, _ := ParseKey(key)
	want := encodeKey(k)
	var missing []string
	for _, m := range g.fanOut(ctx, KeyList, "").Results {
		if m.Error != "" || !contains(m.Keys, want) {
			missing = append(missing, m.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s (install it there first)", ErrKeyNotEverywhere, strings.Join(missing, ", "))
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// fanOut sends the operation to every other alive member, applies it here, and collects the
// answers until all came or ctx ended.
func (g *Gossip) fanOut(ctx context.Context, op, key string) *api.KeyringResult {
	var buf [8]byte
	rand.Read(buf[:])
	req := keyRequest{ID: binary.BigEndian.Uint64(buf[:]), From: g.cfg.Name, Op: op, Key: key}
	var others []*memberlist.Node
	for _, n := range g.ml.Members() {
		if n.State == memberlist.StateAlive && n.Name != g.cfg.Name {
			others = append(others, n)
		}
	}
	answers := g.calls.open(req.ID, len(others))
	defer g.calls.close(req.ID)
	res := &api.KeyringResult{Op: op, Members: len(others) + 1}
	byName := map[string]*api.KeyringMember{}
	for _, n := range append(others, g.ml.LocalNode()) {
		m := toMember(n)
		byName[n.Name] = &api.KeyringMember{Name: n.Name, Role: m.Meta.Role, CellUUID: m.Meta.CellUUID, Error: "no answer"}
	}
	msg := encodeMsg(msgKeyRequest, req)
	sent := 0
	for _, n := range others {
		if err := g.ml.SendReliable(n, msg); err != nil {
			byName[n.Name].Error = "not sent: " + err.Error()
			continue
		}
		sent++
	}
	record(byName, g.localKeyOp(req.ID, op, key))
wait:
	for got := 0; got < sent; got++ {
		select {
		case r := <-answers:
			record(byName, r)
		case <-ctx.Done():
			break wait
		}
	}
	return summarize(res, byName)
}

func record(byName map[string]*api.KeyringMember, r keyResponse) {
	m := byName[r.From]
	if m == nil {
		return
	}
	m.Error, m.Keys = r.Err, r.Keys
}

// summarize fills the counts of res from the members' answers, sorted by name.
func summarize(res *api.KeyringResult, byName map[string]*api.KeyringMember) *api.KeyringResult {
	for _, m := range byName {
		res.Results = append(res.Results, *m)
		if m.Error != "" {
			res.Failed++
			continue
		}
		if res.Op != KeyList {
			continue
		}
		if res.Keys == nil {
			res.Keys, res.Primary = map[string]int{}, map[string]int{}
		}
		for i, k := range m.Keys {
			res.Keys[k]++
			if i == 0 {
				res.Primary[k]++
			}
		}
	}
	sort.Slice(res.Results, func(i, j int) bool { return res.Results[i].Name < res.Results[j].Name })
	return res
}
