package main

import (
	"context"
	"strings"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// simple_cell_setup ---------------------------------------------------------------------------

// simple_cell_setup exit codes.
const (
	exitSetupFailed = 1 // transport URL missing or invalid, or no compute host to map
)

// msgNoHosts is what simple_cell_setup prints when there is nothing to map.
const msgNoHosts = "No hosts found to map to cell, exiting."

// simpleCellSetupOptions are the options of cell_v2 simple_cell_setup.
type simpleCellSetupOptions struct {
	transportURL string
}

// simpleCellSetupCommand is the dispatch entry of cell_v2 simple_cell_setup.
func simpleCellSetupCommand() command {
	return command{name: "simple_cell_setup",
		summary: "Set up cell0 and the cell of a running conductor: map the cell, its compute hosts and its instances.\n" +
			"The cell is the one a live conductor advertises in the gossip pool and that has no mapping yet (else the\n" +
			"first mapped one). Its database connection is conductor://<its address>: the mapping is what routes the\n" +
			"cell's traffic, so it names the conductor (gossip alone never does).",
		exits: "  0 set up (or already set up)\n  1 transport URL missing or invalid, or no compute host found to map\n",
		new:   func() options { return &simpleCellSetupOptions{} }}
}

// addFlags defines the options of cell_v2 simple_cell_setup.
func (o *simpleCellSetupOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.transportURL, "transport-url", "", "the transport `URL` of the cell's message queue")
}

// setupResult is simple_cell_setup's JSON result.
type setupResult struct {
	Cell0       *cell0Result        `json:"cell0"`
	Cell        *api.Cell           `json:"cell,omitempty"`
	CellCreated bool                `json:"cell_created"`
	Discovered  *api.DiscoverResult `json:"discovered,omitempty"`
	Instances   *mapInstancesResult `json:"instances,omitempty"`
}

// run is Nova's simple_cell_setup with the cell found in the gossip pool instead of the
// local database: transport URL, cell0, the conductor's cell, its hosts (discover_hosts),
// then all its instances (map_instances without --max-count, whose code is ignored).
//
// Unlike Nova, the cell is mapped before its hosts are looked for (the data plane only asks
// mapped cells), so a conductor without compute hosts leaves its cell mapped when the command
// exits 1.
func (o *simpleCellSetupOptions) run(ctx context.Context, e *env, _ []string) int {
	r := e.report()
	tu, ok := resolveTransportURL(e, r, o.transportURL)
	if !ok {
		return r.done(exitSetupFailed)
	}
	res := &setupResult{}
	r.result = res
	var err error
	if res.Cell0, err = mapCell0(ctx, e, r, ""); err != nil {
		return r.fail(err)
	}
	cell, code, err := o.cell(ctx, e, r, tu, res)
	if err != nil {
		return r.fail(err)
	}
	if code != exitOK {
		return r.done(code)
	}
	shown := e.displayCell(*cell, false)
	res.Cell = &shown
	if res.Discovered, err = e.client.DiscoverHosts(ctx, api.DiscoverHosts{CellUUID: cell.UUID}); err != nil {
		return r.fail(err)
	}
	if failed := res.Discovered.FailedCells; len(failed) > 0 {
		return r.failDone(messagef(msgCellsDown, strings.Join(failed, ", ")))
	}
	checked := 0
	for _, c := range res.Discovered.Cells {
		checked += len(c.Checked)
	}
	if checked == 0 {
		hosts, err := e.client.Hosts(ctx, cell.UUID)
		if err != nil {
			return r.fail(err)
		}
		if len(hosts) == 0 {
			r.say(msgNoHosts)
			return r.done(exitSetupFailed)
		}
	}
	// No progress lines: Nova's simple_cell_setup prints nothing while it maps.
	if res.Instances, err = e.mapInstances(ctx, mapRun{cell: cell.UUID, batch: mapBatch, all: true}); err != nil {
		return r.fail(err)
	}
	return r.done(exitOK)
}

// cell finds the cell to set up: the first live conductor's cell without a mapping, which is
// then created, else the first live conductor's (mapped) cell. No live conductor is exit 1.
func (o *simpleCellSetupOptions) cell(ctx context.Context, e *env, r *report, tu string, res *setupResult) (*api.Cell, int, error) {
	conductors, err := e.client.Conductors(ctx)
	if err != nil {
		return nil, 0, err
	}
	var mapped, unmapped *api.Conductor
	for i := range conductors {
		c := &conductors[i]
		switch {
		case !c.Alive:
		case !c.Mapped && unmapped == nil:
			unmapped = c
		case c.Mapped && mapped == nil:
			mapped = c
		}
	}
	if unmapped == nil && mapped == nil {
		r.say(msgNoHosts)
		return nil, exitSetupFailed, nil
	}
	if unmapped == nil {
		return o.existing(ctx, e, r, mapped.CellUUID)
	}
	// The mapping is the only authority for where the cell lives: it names the conductor.
	db := "conductor://" + unmapped.HTTPAddr
	cell, err := e.client.CreateCell(ctx, api.CellCreate{UUID: unmapped.CellUUID, TransportURL: tu, DatabaseConnection: db})
	switch client.CodeOf(err) {
	case "":
		if err != nil {
			return nil, 0, err
		}
		res.CellCreated = true
		return cell, exitOK, nil
	case api.CodeAlreadyExists: // a concurrent setup mapped it first
		return o.existing(ctx, e, r, unmapped.CellUUID)
	case api.CodeDuplicateURL:
		r.say(msgDuplicateURL, uuidIn(apiMessage(err)))
		return nil, exitSetupFailed, nil
	case api.CodeInvalid:
		r.say("%s", apiMessage(err))
		return nil, exitSetupFailed, nil
	}
	return nil, 0, err
}

// existing reads the mapped cell uuid that is set up again.
func (o *simpleCellSetupOptions) existing(ctx context.Context, e *env, r *report, uuid string) (*api.Cell, int, error) {
	r.say("Cell already mapped: %s", uuid)
	cell, err := e.client.Cell(ctx, uuid)
	if err != nil {
		return nil, 0, err
	}
	return cell, exitOK, nil
}
