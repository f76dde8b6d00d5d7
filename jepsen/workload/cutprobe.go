package workload

import (
	"context"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/jepsen/history"
)

// The conductor cut does not leave its window to the random load: before it cuts a cell it
// takes servers of that cell that a listing showed (creating some with the cell's own flavor
// when too few are known), and once every node reports the cell down it lists, deletes each
// of them (every delete must be refused with 503 cell_down and change nothing) and lists
// again. So every cut window holds listings and deletes for the cells checker to judge.

// takeKnown returns up to n servers of cell that a completed listing showed in it and that
// no client is deleting, and takes them (no deleter deletes them until they are released).
// When fewer are known it creates servers with the cell's own flavor and lists until they
// show in the cell, for at most wait (polling every poll), creating at most 2n servers.
func (c *Cells) takeKnown(ctx context.Context, cell CellSpec, n int, wait, poll time.Duration) ([]string, error) {
	env := c.currentEnv()
	if env == nil {
		return nil, fmt.Errorf("workload: the cells workload is not set up")
	}
	process := env.Rec.NewProcess()
	project := 0
	if cell.LastProject {
		project = c.cfg.Projects - 1
	}
	deadline := time.Now().Add(wait)
	pending := map[string]bool{} // acknowledged creates not yet listed in the cell
	created := 0
	for i := 0; i < 1000; i++ {
		known := c.knownIn(cell.UUID)
		for _, id := range known {
			delete(pending, id)
		}
		if len(known) >= n || ctx.Err() != nil || time.Now().After(deadline) {
			return c.take(known, n), nil
		}
		node := env.Nodes[i%len(env.Nodes)]
		for ; len(known)+len(pending) < n && created < 2*n; created++ {
			name := fmt.Sprintf("jc-s%d-e%d-cut-%d", env.Seed, env.Episode, c.nextName())
			id, kind := c.create(env, process, node, project, cell.Flavor, name)
			if id != "" {
				pending[id] = true
			}
			if kind == history.KindInfo {
				process = env.Rec.NewProcess()
			}
		}
		c.list(env.OpCtx, env, process, node, "")
		select {
		case <-ctx.Done():
		case <-time.After(poll):
		}
	}
	return c.take(c.knownIn(cell.UUID), n), nil
}

// knownIn returns the servers the latest listing showed in cell that no client took.
func (c *Cells) knownIn(cell string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, s := range c.last {
		if s.Cell() == cell && !c.settled[s.ID()] {
			out = append(out, s.ID())
		}
	}
	return out
}

// take marks up to n of ids taken (settled), skipping any another client took meanwhile.
func (c *Cells) take(ids []string, n int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, id := range ids {
		if len(out) == n {
			break
		}
		if !c.settled[id] {
			c.settled[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (c *Cells) nextName() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.named++
	return c.named
}

// exerciseCut runs inside a cut window: a listing, a delete of each taken server (through the
// nodes in turn), another listing. Refused deletes release their server (see delete). It
// returns a note for the nemesis's history.
func (c *Cells) exerciseCut(ids []string) string {
	env := c.currentEnv()
	if env == nil {
		c.release(ids...)
		return "the cells workload is not set up: nothing deleted"
	}
	process := env.Rec.NewProcess()
	listed, refused := 0, 0
	if c.list(env.OpCtx, env, process, env.Nodes[0], "") == nil {
		listed++
	}
	for i, id := range ids {
		kind, code := c.delete(env, process, env.Nodes[(i+1)%len(env.Nodes)], id)
		if code == api.CodeCellDown {
			refused++
		}
		if kind == history.KindInfo {
			process = env.Rec.NewProcess()
		}
	}
	if c.list(env.OpCtx, env, process, env.Nodes[len(ids)%len(env.Nodes)], "") == nil {
		listed++
	}
	return fmt.Sprintf("inside the window: %d listings, %d deletes of known servers of the cell (%d refused with cell_down)",
		listed, len(ids), refused)
}
