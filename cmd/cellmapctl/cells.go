package main

import (
	"context"
	"errors"
	"strings"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/client"
)

// Messages nova-manage cell_v2 prints (nova/cmd/manage.py), shared by the cell commands.
const (
	msgCellNotFound     = "Cell with uuid %s was not found."
	msgDuplicateURL     = "The specified transport_url and/or database_connection combination already exists for another cell with uuid %s."
	msgNoTransportURL   = "Must specify --transport-url if [DEFAULT]/transport_url is not set in the configuration file."
	msgTransportFromCfg = "--transport-url not provided in the command line, using the value [DEFAULT]/transport_url from the configuration file"
	msgNoDatabase       = "Must specify --database_connection if [database]/connection is not set in the configuration file."
	msgDatabaseFromCfg  = "--database_connection not provided in the command line, using the value [database]/connection from the configuration file"
	msgInvalidTransport = "Invalid transport URL: %v"
	// msgCellNoMapping is Nova's CellMappingNotFound, which discover_hosts and map_instances
	// do not catch (exit 255).
	msgCellNoMapping = "Cell %s has no mapping."
	// msgCellsDown names the cells that were down or did not answer.
	msgCellsDown = "Cells down or not answering: %s"
)

// cellMappingNotFound is the uncaught CellMappingNotFound of discover_hosts and map_instances.
func cellMappingNotFound(uuid string) error { return messagef(msgCellNoMapping, uuid) }

// isCellNotFound reports whether err is the server's answer for an unknown cell.
func isCellNotFound(err error) bool {
	code := client.CodeOf(err)
	return code == api.CodeNotFound || code == api.CodeUnknownCell
}

// map_cell0 ---------------------------------------------------------------------------------

// mapCell0Options are the options of cell_v2 map_cell0.
type mapCell0Options struct {
	databaseConnection string
}

// mapCell0Command is the dispatch entry of cell_v2 map_cell0.
func mapCell0Command() command {
	return command{name: "map_cell0", summary: "Create the cell0 mapping (idempotent).",
		exits: "  0 cell0 created, or already set up (\"Cell0 is already setup\")\n",
		new:   func() options { return &mapCell0Options{} }}
}

// addFlags defines the options of cell_v2 map_cell0.
func (o *mapCell0Options) addFlags(f *flagSet) {
	f.fs.StringVar(&o.databaseConnection, "database_connection", "",
		"database `URL` of cell0 (default: --base-database-connection with \"_cell0\" appended to the database name)")
}

// cell0Result is map_cell0's JSON result.
type cell0Result struct {
	Created bool      `json:"created"`
	Cell    *api.Cell `json:"cell"`
}

// run executes cell_v2 map_cell0.
func (o *mapCell0Options) run(ctx context.Context, e *env, _ []string) int {
	r := e.report()
	res, err := mapCell0(ctx, e, r, o.databaseConnection)
	if err != nil {
		return r.fail(err)
	}
	r.result = res
	return r.done(exitOK)
}

// mapCell0 is Nova's _map_cell0 as map_cell0 and simple_cell_setup run it: cell0's database
// defaults to the base database with "_cell0" appended; an existing cell0 is kept ("Cell0 is
// already setup").
func mapCell0(ctx context.Context, e *env, r *report, db string) (*cell0Result, error) {
	if db == "" && e.baseDatabaseConnection != "" {
		var err error
		if db, err = cell0Connection(e.baseDatabaseConnection); err != nil {
			return nil, err
		}
	}
	// With neither an option nor a base the server stores an empty connection (Nova would
	// fail parsing an unset [database]/connection).
	cell, created, err := e.client.MapCell0(ctx, db)
	if err != nil {
		return nil, err
	}
	if !created {
		r.say("Cell0 is already setup")
	}
	shown := e.displayCell(*cell, false)
	return &cell0Result{Created: created, Cell: &shown}, nil
}

// create_cell -------------------------------------------------------------------------------

// create_cell exit codes.
const (
	exitCreateCellBadURL    = 1 // transport or database URL missing or invalid
	exitCreateCellDuplicate = 2 // another cell uses the transport or the database URL
)

// createCellOptions are the options of cell_v2 create_cell.
type createCellOptions struct {
	name, transportURL, databaseConnection string
	verbose, disabled                      bool
}

// createCellCommand is the dispatch entry of cell_v2 create_cell.
func createCellCommand() command {
	return command{name: "create_cell", summary: "Add a cell mapping. URLs not given come from the base URLs.",
		exits: "  0 created\n  1 transport or database URL missing or invalid\n" +
			"  2 the transport URL or the database URL is already used by another cell\n",
		new: func() options { return &createCellOptions{} }}
}

// addFlags defines the options of cell_v2 create_cell.
func (o *createCellOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.name, "name", "", "the `NAME` of the cell")
	f.fs.StringVar(&o.transportURL, "transport-url", "", "the transport `URL` of the cell's message queue")
	f.fs.StringVar(&o.databaseConnection, "database_connection", "", "the `URL` of the cell's database")
	f.fs.BoolVar(&o.verbose, "verbose", false, "print the uuid of the new cell")
	f.fs.BoolVar(&o.disabled, "disabled", false, "create the cell disabled (not used by the scheduler)")
}

// run executes cell_v2 create_cell.
func (o *createCellOptions) run(ctx context.Context, e *env, _ []string) int {
	r := e.report()
	tu, ok := resolveTransportURL(e, r, o.transportURL)
	if !ok {
		return r.done(exitCreateCellBadURL)
	}
	db := o.databaseConnection
	if db == "" {
		if e.baseDatabaseConnection == "" {
			r.say(msgNoDatabase)
			return r.done(exitCreateCellBadURL)
		}
		r.say(msgDatabaseFromCfg)
		db = e.baseDatabaseConnection
	}
	cells, err := e.client.Cells(ctx, false)
	if err != nil {
		return r.fail(err)
	}
	// Nova compares the new raw URLs with the existing cells' expanded ones; the server only
	// compares stored values, so check here with the caller's bases first.
	if dup := e.duplicateCell(cells, "", tu, db); dup != "" {
		r.say(msgDuplicateURL, dup)
		return r.done(exitCreateCellDuplicate)
	}
	cell, err := e.client.CreateCell(ctx, api.CellCreate{Name: o.name, TransportURL: tu, DatabaseConnection: db, Disabled: o.disabled})
	switch client.CodeOf(err) {
	case "":
		if err != nil {
			return r.fail(err)
		}
	case api.CodeDuplicateURL: // a concurrent create won the race
		r.say(msgDuplicateURL, uuidIn(apiMessage(err)))
		return r.done(exitCreateCellDuplicate)
	case api.CodeInvalid:
		r.say("%s", apiMessage(err))
		return r.done(exitCreateCellBadURL)
	default:
		return r.fail(err)
	}
	if o.verbose {
		r.say("%s", cell.UUID)
	}
	shown := e.displayCell(*cell, false)
	r.result = &shown
	return r.done(exitOK)
}

// resolveTransportURL is Nova's _validate_transport_url: fall back to the base URL (saying
// so), then check the URL expanded with the base.
func resolveTransportURL(e *env, r *report, given string) (string, bool) {
	tu := given
	if tu == "" {
		if e.baseTransportURL == "" {
			r.say(msgNoTransportURL)
			return "", false
		}
		r.say(msgTransportFromCfg)
		tu = e.baseTransportURL
	}
	if err := checkTransportURL(tu, e.baseTransportURL); err != nil {
		r.say(msgInvalidTransport, err)
		return "", false
	}
	return tu, true
}

// update_cell -------------------------------------------------------------------------------

// update_cell exit codes.
const (
	exitUpdateCellNotFound   = 1 // no such cell
	exitUpdateCellSaveFailed = 2 // the server refused the update
	exitUpdateCellDuplicate  = 3 // another cell uses the transport or the database URL
	exitUpdateCellBothFlags  = 4 // --disable and --enable together
	exitUpdateCellCell0      = 5 // --disable or --enable on cell0
)

// updateCellOptions are the options of cell_v2 update_cell.
type updateCellOptions struct {
	cellUUID, name, transportURL, databaseConnection string
	disable, enable                                  bool
}

// updateCellCommand is the dispatch entry of cell_v2 update_cell.
func updateCellCommand() command {
	return command{name: "update_cell", summary: "Change a cell mapping. Options not given keep their values.",
		exits: "  0 updated (also when already in the requested state)\n  1 cell not found\n  2 the update was refused\n" +
			"  3 the transport URL or the database URL is already used by another cell\n" +
			"  4 --disable and --enable together\n  5 --disable or --enable on cell0\n",
		new: func() options { return &updateCellOptions{} }}
}

// addFlags defines the options of cell_v2 update_cell.
func (o *updateCellOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.cellUUID, "cell_uuid", "", "the `UUID` of the cell to update")
	f.fs.StringVar(&o.name, "name", "", "set the cell `NAME`")
	f.fs.StringVar(&o.transportURL, "transport-url", "", "set the transport `URL` (running services see it after a restart)")
	f.fs.StringVar(&o.databaseConnection, "database_connection", "", "set the database `URL` (running services see it after a restart)")
	f.fs.BoolVar(&o.disable, "disable", false, "disable the cell (the scheduler skips it after a SIGHUP)")
	f.fs.BoolVar(&o.enable, "enable", false, "enable the cell")
	f.require("cell_uuid")
}

// run follows Nova's order of checks: not found (1), duplicate URL (3), both flags (4), cell0
// (5), then saves (2 on failure).
//
// Deliberately NOT copied: Nova replaces an omitted --transport-url/--database_connection
// with [DEFAULT]/transport_url and [database]/connection whenever those are configured, so
// an update of just the name can silently rewrite a cell's URLs. Here an omitted (or empty)
// option keeps the stored value, and the base URLs are only used for display and checks.
func (o *updateCellOptions) run(ctx context.Context, e *env, _ []string) int {
	r := e.report()
	if !validate.IsUUID(o.cellUUID) {
		r.say(msgCellNotFound, o.cellUUID)
		return r.done(exitUpdateCellNotFound)
	}
	cells, err := e.client.Cells(ctx, false)
	if err != nil {
		return r.fail(err)
	}
	cell := findCell(cells, o.cellUUID)
	if cell == nil {
		r.say(msgCellNotFound, o.cellUUID)
		return r.done(exitUpdateCellNotFound)
	}
	if o.transportURL != "" || o.databaseConnection != "" {
		if dup := e.duplicateCell(cells, cell.UUID, o.transportURL, o.databaseConnection); dup != "" {
			r.say(msgDuplicateURL, dup)
			return r.done(exitUpdateCellDuplicate)
		}
	}
	upd, code := o.update(r, cell)
	if code != exitOK {
		return r.done(code)
	}
	if upd == (api.CellUpdate{}) {
		shown := e.displayCell(*cell, false)
		r.result = &shown
		return r.done(exitOK)
	}
	updated, err := e.client.UpdateCell(ctx, cell.UUID, upd)
	if err != nil {
		return o.updateFailed(r, err)
	}
	shown := e.displayCell(*updated, false)
	r.result = &shown
	return r.done(exitOK)
}

// update builds the PATCH body after the flag checks (codes 4 and 5).
func (o *updateCellOptions) update(r *report, cell *api.Cell) (api.CellUpdate, int) {
	var upd api.CellUpdate
	if o.disable && o.enable {
		r.say("Cell cannot be disabled and enabled at the same time.")
		return upd, exitUpdateCellBothFlags
	}
	if o.disable || o.enable {
		if cell.UUID == api.Cell0UUID {
			r.say("Cell0 cannot be disabled.")
			return upd, exitUpdateCellCell0
		}
		switch {
		case o.disable && cell.Disabled:
			r.say("Cell %s is already disabled", o.cellUUID)
		case o.enable && !cell.Disabled:
			r.say("Cell %s is already enabled", o.cellUUID)
		default:
			upd.Disabled = ptr(o.disable)
		}
	}
	if o.name != "" {
		upd.Name = ptr(o.name)
	}
	if o.transportURL != "" {
		upd.TransportURL = ptr(o.transportURL)
	}
	if o.databaseConnection != "" {
		upd.DatabaseConnection = ptr(o.databaseConnection)
	}
	return upd, exitOK
}

// updateFailed maps a failed PATCH: the server repeats the checks, so a concurrent change can
// still produce 1, 3 or 5; any other API error is Nova's "save failed" (2).
func (o *updateCellOptions) updateFailed(r *report, err error) int {
	var ae *client.Error
	if !errors.As(err, &ae) {
		return r.fail(err)
	}
	switch ae.Code {
	case api.CodeNotFound:
		r.say(msgCellNotFound, o.cellUUID)
		return r.done(exitUpdateCellNotFound)
	case api.CodeDuplicateURL:
		r.say(msgDuplicateURL, uuidIn(ae.Message))
		return r.done(exitUpdateCellDuplicate)
	case api.CodeCell0Immutable:
		r.say("Cell0 cannot be disabled.")
		return r.done(exitUpdateCellCell0)
	}
	r.say("Unable to update CellMapping: %s", ae.Message)
	return r.done(exitUpdateCellSaveFailed)
}

// delete_cell -------------------------------------------------------------------------------

// delete_cell exit codes.
const (
	exitDeleteCellNotFound        = 1 // no such cell
	exitDeleteCellHostsMapped     = 2 // hosts mapped, no --force
	exitDeleteCellInstancesExist  = 3 // non-deleted instances (even with --force)
	exitDeleteCellDeletedInstance = 4 // only deleted instances still mapped, no --force
)

// deleteCellOptions are the options of cell_v2 delete_cell.
type deleteCellOptions struct {
	cellUUID string
	force    bool
}

// deleteCellCommand is the dispatch entry of cell_v2 delete_cell.
func deleteCellCommand() command {
	return command{name: "delete_cell", summary: "Delete an empty cell mapping.",
		exits: "  0 deleted\n  1 cell not found\n  2 hosts are mapped to the cell (use --force)\n" +
			"  3 instances exist in the cell (also with --force)\n" +
			"  4 only deleted instances are still mapped (archive them, or use --force)\n",
		new: func() options { return &deleteCellOptions{} }}
}

// addFlags defines the options of cell_v2 delete_cell.
func (o *deleteCellOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.cellUUID, "cell_uuid", "", "the `UUID` of the cell to delete")
	f.fs.BoolVar(&o.force, "force", false, "also delete the cell's host mappings and the mappings of its deleted instances")
	f.require("cell_uuid")
}

// run executes cell_v2 delete_cell.
func (o *deleteCellOptions) run(ctx context.Context, e *env, _ []string) int {
	r := e.report()
	if !validate.IsUUID(o.cellUUID) {
		r.say(msgCellNotFound, o.cellUUID)
		return r.done(exitDeleteCellNotFound)
	}
	err := e.client.DeleteCell(ctx, o.cellUUID, o.force)
	switch client.CodeOf(err) {
	case "":
		if err != nil {
			return r.fail(err)
		}
		return r.done(exitOK)
	case api.CodeNotFound:
		r.say(msgCellNotFound, o.cellUUID)
		return r.done(exitDeleteCellNotFound)
	case api.CodeHostsMapped:
		r.say("There are existing hosts mapped to cell with uuid %s.", o.cellUUID)
		return r.done(exitDeleteCellHostsMapped)
	case api.CodeInstancesExist:
		r.say("There are existing instances mapped to cell with uuid %s.", o.cellUUID)
		return r.done(exitDeleteCellInstancesExist)
	case api.CodeDeletedInstancesMapped:
		r.say("There are instance mappings to cell with uuid %s, but all instances have been deleted in the cell.", o.cellUUID)
		r.say("So execute 'nova-manage db archive_deleted_rows' to delete the instance mappings.")
		return r.done(exitDeleteCellDeletedInstance)
	}
	return r.fail(err)
}

// findCell returns the cell with uuid (any case), or nil.
func findCell(cells []api.Cell, uuid string) *api.Cell {
	for i := range cells {
		if strings.EqualFold(cells[i].UUID, uuid) {
			return &cells[i]
		}
	}
	return nil
}
