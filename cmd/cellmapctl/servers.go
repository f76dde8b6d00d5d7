package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/client"
)

// Exit codes of the server commands.
const (
	exitServerFailed   = 1 // not found, invalid input, or quota exceeded
	exitServerCellDown = 3 // refused because a cell is down
)

// Defaults of server create --wait.
const (
	defaultWaitTimeout = 60 * time.Second
	waitPollInterval   = 250 * time.Millisecond
)

// serverFailure says what went wrong with server id ("" when there is none); ok is false for
// an unexpected error (the caller then exits 255).
func serverFailure(r *report, id string, err error) (code int, ok bool) {
	var ae *client.Error
	if !errors.As(err, &ae) {
		return 0, false
	}
	switch ae.Code {
	case api.CodeNotFound:
		if id == "" {
			return 0, false
		}
		r.say("No server with a name or ID of '%s' exists.", id)
	case api.CodeInvalid, api.CodeBadRequest, api.CodeMarkerNotFound:
		r.say("Invalid input: %s", ae.Message)
	case api.CodeQuotaExceeded:
		r.say("%s", ae.Message)
	case api.CodeCellDown, api.CodeProjectCellDown:
		r.say("%s", ae.Message)
		if len(ae.Cells) > 0 {
			r.say(msgCellsDown, strings.Join(ae.Cells, ", "))
		}
		return exitServerCellDown, true
	default:
		return 0, false
	}
	return exitServerFailed, true
}

// serverError reports a failed server call: 1 or 3 with a message, or 255.
func serverError(e *env, id string, err error) int {
	r := e.report()
	if code, ok := serverFailure(r, id, err); ok {
		return r.done(code)
	}
	return e.fail(err)
}

// serverNotFound is the answer for an id that cannot name a server (not a uuid).
func serverNotFound(e *env, id string) int {
	r := e.report()
	r.say("No server with a name or ID of '%s' exists.", id)
	return r.done(exitServerFailed)
}

// server create ------------------------------------------------------------------------------

// serverCreateOptions are the options of server create.
type serverCreateOptions struct {
	name, flavor, image, project, user, az, group string
	meta                                          keyValues
	wait                                          bool
	waitTimeout                                   time.Duration
}

// serverCreateCommand is the dispatch entry of server create.
func serverCreateCommand() command {
	return command{name: "create", summary: "Create a server; it is scheduled to a cell in the background (status BUILD).",
		exits: "  0 accepted (with --wait: left BUILD, not in ERROR)\n  1 invalid input (e.g. unknown flavor), quota exceeded, or with\n" +
			"    --wait the server went to ERROR or was deleted\n  3 refused: the project has servers in a cell that is down\n" +
			"    (cellmapd --block-creates-on-down-cell)\n" +
			"  255 with --wait: still BUILD after --wait-timeout\n",
		new: func() options { return &serverCreateOptions{meta: keyValues{}} }}
}

// addFlags defines the options of server create.
func (o *serverCreateOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.name, "name", "", "the server `NAME`")
	f.fs.StringVar(&o.flavor, "flavor", "", "the flavor `ID`")
	f.fs.StringVar(&o.image, "image", "", "the image `REF`")
	f.fs.StringVar(&o.project, "project", "", "the `PROJECT` id that owns the server")
	f.fs.StringVar(&o.user, "user", "", "the `USER` id that owns the server")
	f.fs.StringVar(&o.az, "az", "", "the availability `ZONE`")
	f.fs.StringVar(&o.group, "group", "", "join the server group `ID` (Nova's --hint group=ID)")
	f.fs.Var(o.meta, "meta", "a metadata item `KEY=VALUE` (repeatable)")
	f.fs.BoolVar(&o.wait, "wait", false, "wait until the server leaves BUILD")
	f.fs.DurationVar(&o.waitTimeout, "wait-timeout", defaultWaitTimeout, "with --wait, give up after `DURATION` (added to --timeout)")
	f.require("name", "flavor", "image", "project", "user")
}

// validate checks --wait-timeout.
func (o *serverCreateOptions) validate([]string) error {
	if o.waitTimeout <= 0 {
		return usagef("--wait-timeout must be positive")
	}
	return nil
}

// extraTime lets --wait wait up to --wait-timeout beyond --timeout.
func (o *serverCreateOptions) extraTime() time.Duration {
	if o.wait {
		return o.waitTimeout
	}
	return 0
}

// run executes server create.
func (o *serverCreateOptions) run(ctx context.Context, e *env, _ []string) int {
	spec := api.ServerCreateSpec{Name: o.name, FlavorRef: o.flavor, ImageRef: o.image, ProjectID: o.project, UserID: o.user,
		AvailabilityZone: o.az, Group: o.group}
	if len(o.meta) > 0 {
		spec.Metadata = o.meta
	}
	srv, err := e.client.CreateServer(ctx, spec)
	if err != nil {
		return serverError(e, "", err)
	}
	if !o.wait {
		return e.show(srv, serverTable(srv))
	}
	srv, err = waitForServer(ctx, e.client, srv.ID, o.waitTimeout)
	if err != nil {
		return serverError(e, srv.ID, err)
	}
	code := e.show(srv, serverTable(srv))
	if code == exitOK && srv.Status == api.StatusError {
		fmt.Fprintf(e.stderr, "Error creating server: %s\n", o.name)
		return exitServerFailed
	}
	return code
}

// waitForServer polls a server until its status is not BUILD, for at most timeout. It always
// returns a server (the last one seen, or one with just the id).
func waitForServer(ctx context.Context, c *client.Client, id string, timeout time.Duration) (*api.Server, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(waitPollInterval)
	defer tick.Stop()
	last := &api.Server{ID: id, Status: api.StatusBuild}
	for {
		srv, err := c.Server(ctx, id)
		switch {
		case err == nil && srv.Status != api.StatusBuild:
			return srv, nil
		case err == nil:
			last = srv
		case ctx.Err() == nil:
			return last, err
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("server %s is still %s after waiting %v: %w", id, last.Status, timeout, ctx.Err())
		case <-tick.C:
		}
	}
}

// server list --------------------------------------------------------------------------------

// serverListOptions are the options of server list.
type serverListOptions struct {
	project            string
	allTenants         bool
	limit              int
	marker             string
	sortKeys, sortDirs stringList
}

// serverListCommand is the dispatch entry of server list.
func serverListCommand() command {
	return command{name: "list", summary: "List servers across the cells. Servers of cells that are down are listed as\n" +
		"UNKNOWN (or left out when sorting or paging); the cells are named on stderr.",
		exits: "  0 listed (also with cells down)\n  1 invalid input (e.g. unknown marker)\n",
		new:   func() options { return &serverListOptions{} }}
}

// addFlags defines the options of server list.
func (o *serverListOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.project, "project", "", "list the servers of `PROJECT`")
	f.fs.BoolVar(&o.allTenants, "all-tenants", false, "list the servers of every project")
	f.fs.IntVar(&o.limit, "limit", 0, "list at most `N` servers (default and maximum 1000)")
	f.fs.StringVar(&o.marker, "marker", "", "list the servers after the one with this `ID`")
	f.fs.Var(&o.sortKeys, "sort-key", "sort by `KEY` (repeatable; default created_at)")
	f.fs.Var(&o.sortDirs, "sort-dir", "sort direction `DIR`, asc or desc, one per --sort-key (repeatable; default desc)")
}

// validate requires exactly one of --project and --all-tenants (argparse's messages).
func (o *serverListOptions) validate([]string) error {
	switch {
	case o.project != "" && o.allTenants:
		return usagef("argument --all-tenants: not allowed with argument --project")
	case o.project == "" && !o.allTenants:
		return usagef("one of the arguments --project --all-tenants is required")
	}
	return nil
}

// run executes server list.
func (o *serverListOptions) run(ctx context.Context, e *env, _ []string) int {
	list, err := e.client.Servers(ctx, api.ServerQuery{ProjectID: o.project, AllTenants: o.allTenants, Limit: o.limit,
		Marker: o.marker, SortKeys: o.sortKeys, SortDirs: o.sortDirs})
	if err != nil {
		return serverError(e, "", err)
	}
	t := newTable("ID", "Name", "Status", "Tenant", "Cell", "Created")
	for _, s := range list.Servers {
		t.addRow(s.ID, s.Name, s.Status, s.TenantID, s.CellUUID, formatTime(s.Created))
	}
	code := e.show(list, t)
	if len(list.DownCells) > 0 && !e.jsonOutput() {
		fmt.Fprintf(e.stderr, msgCellsDown+"\n", strings.Join(list.DownCells, ", "))
	}
	return code
}

// server show --------------------------------------------------------------------------------

// serverShowOptions are the options of server show.
type serverShowOptions struct{}

// serverShowCommand is the dispatch entry of server show.
func serverShowCommand() command {
	return command{name: "show", summary: "Show one server (a minimal record with status UNKNOWN when its cell is down).",
		exits: "  0 shown\n  1 not found\n",
		new:   func() options { return &serverShowOptions{} }}
}

// addFlags defines the options of server show.
func (o *serverShowOptions) addFlags(f *flagSet) { f.positional("<server-id>", 1, 1) }

// run executes server show.
func (o *serverShowOptions) run(ctx context.Context, e *env, args []string) int {
	id := args[0]
	if !validate.IsUUID(id) {
		return serverNotFound(e, id)
	}
	srv, err := e.client.Server(ctx, id)
	if err != nil {
		return serverError(e, id, err)
	}
	return e.show(srv, serverTable(srv))
}

// server delete ------------------------------------------------------------------------------

// serverDeleteOptions are the options of server delete.
type serverDeleteOptions struct{}

// serverDeleteCommand is the dispatch entry of server delete.
func serverDeleteCommand() command {
	return command{name: "delete", summary: "Delete a server.",
		exits: "  0 deleted\n  1 not found\n  3 refused: the server's cell is down (nothing changed)\n",
		new:   func() options { return &serverDeleteOptions{} }}
}

// addFlags defines the options of server delete.
func (o *serverDeleteOptions) addFlags(f *flagSet) { f.positional("<server-id>", 1, 1) }

// run executes server delete.
func (o *serverDeleteOptions) run(ctx context.Context, e *env, args []string) int {
	id := args[0]
	if !validate.IsUUID(id) {
		return serverNotFound(e, id)
	}
	r := e.report()
	if err := e.client.DeleteServer(ctx, id); err != nil {
		if code, ok := serverFailure(r, id, err); ok {
			return r.done(code)
		}
		return r.fail(err)
	}
	return r.done(exitOK)
}

// serverTable is the Field/Value table of one server.
func serverTable(s *api.Server) *table {
	t := newTable("Field", "Value")
	t.align = alignLeft
	t.addRow("ID", s.ID)
	t.addRow("Name", s.Name)
	t.addRow("Status", s.Status)
	t.addRow("Tenant ID", s.TenantID)
	t.addRow("User ID", s.UserID)
	flavor := ""
	if s.Flavor != nil {
		flavor = fmt.Sprintf("%s (%s)", s.Flavor.Name, s.Flavor.ID)
	}
	t.addRow("Flavor", flavor)
	t.addRow("Image", s.Image)
	t.addRow("Metadata", specsString(s.Metadata))
	t.addRow("Availability Zone", s.AvailabilityZone)
	t.addRow("Cell UUID", s.CellUUID)
	t.addRow("Host", s.Host)
	t.addRow("Created", formatTime(s.Created))
	updated := ""
	if s.Updated != nil {
		updated = formatTime(*s.Updated)
	}
	t.addRow("Updated", updated)
	if s.Fault != nil {
		t.addRow("Fault", fmt.Sprintf("%d: %s", s.Fault.Code, s.Fault.Message))
	}
	return t
}

// formatTime prints a time as RFC 3339 in UTC ("" for the zero time).
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
