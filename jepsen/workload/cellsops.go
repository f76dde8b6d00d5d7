package workload

import (
	"context"
	"encoding/json"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/jepsen/history"
)

// The single operations of the cells workload, each recorded (invoke, then ok, fail or
// info). The workload's clients and the conductor cut both make them.

func (c *Cells) setEnv(env *Env) {
	c.mu.Lock()
	c.env = env
	c.mu.Unlock()
}

// currentEnv is the environment of the running episode (of Prepare before the first one);
// nil before Prepare.
func (c *Cells) currentEnv() *Env {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.env
}

// create makes one create of server name in project p (0-based) through node; it returns
// the server's id when the create was acknowledged.
func (c *Cells) create(env *Env, process int, node string, p int, flavor, name string) (string, history.Kind) {
	inv := env.Rec.Invoke(history.Event{Process: process, Workload: CellsName, F: FCreate, Key: CellsProject(p), Node: node, Value: name})
	octx, cancel := context.WithTimeout(env.OpCtx, c.cfg.CreateTimeout)
	s, err := env.Client(node).CreateServer(octx, api.ServerCreateSpec{Name: name, FlavorRef: flavor, ImageRef: "jepsen-image",
		ProjectID: CellsProject(p), UserID: "jepsen"})
	cancel()
	kind, code := ClassifyCells(err)
	done := history.Event{Value: name, Error: code}
	id := ""
	if kind == history.KindOK {
		id = s.ID
		done.Data, _ = json.Marshal(history.ServerCreated{ID: s.ID, Status: s.Status})
	}
	env.Rec.Complete(inv, kind, done)
	return id, kind
}

// delete makes one delete of server id, which the caller took (settled), through node. A
// definite refusal other than not_found (e.g. cell_down) changed nothing: the server is
// released for later deletes. It returns the outcome and the error code ("" when none).
func (c *Cells) delete(env *Env, process int, node, id string) (history.Kind, string) {
	inv := env.Rec.Invoke(history.Event{Process: process, Workload: CellsName, F: FDelete, Key: id, Node: node})
	octx, cancel := context.WithTimeout(env.OpCtx, c.cfg.DeleteTimeout)
	err := env.Client(node).DeleteServer(octx, id)
	cancel()
	kind, code := ClassifyCells(err)
	env.Rec.Complete(inv, kind, history.Event{Error: code})
	if kind == history.KindFail && client.CodeOf(err) != api.CodeNotFound {
		c.release(id)
	}
	return kind, client.CodeOf(err)
}

// release makes servers a client took deletable again.
func (c *Cells) release(ids ...string) {
	c.mu.Lock()
	for _, id := range ids {
		delete(c.settled, id)
	}
	c.mu.Unlock()
}

// list makes one listing (all tenants, no paging) and records it; value marks the final one.
func (c *Cells) list(ctx context.Context, env *Env, process int, node, value string) error {
	inv := env.Rec.Invoke(history.Event{Process: process, Workload: CellsName, F: FList, Node: node, Value: value})
	octx, cancel := context.WithTimeout(ctx, c.cfg.ListTimeout)
	l, err := env.Client(node).Servers(octx, api.ServerQuery{AllTenants: true})
	cancel()
	if err != nil {
		env.Rec.Complete(inv, history.KindFail, history.Event{Value: value, Error: orMessage(client.CodeOf(err), err)})
		return err
	}
	listing := history.ServerListing{DownCells: l.DownCells, Servers: make([]history.ListedServer, len(l.Servers)),
		Truncated: len(l.Servers) >= listPageLimit}
	if listing.DownCells == nil {
		listing.DownCells = []string{}
	}
	for i, s := range l.Servers {
		listing.Servers[i] = history.ListedServer{s.ID, s.Status, s.CellUUID, s.Name}
	}
	data, _ := json.Marshal(listing)
	env.Rec.Complete(inv, history.KindOK, history.Event{Value: value, Data: data})
	c.mu.Lock()
	c.last, c.seen = listing.Servers, true
	c.mu.Unlock()
	return nil
}

// listPageLimit is the API's default (and largest) page: a listing that long may be cut.
const listPageLimit = 1000
