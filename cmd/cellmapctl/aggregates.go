package main

import (
	"context"
	"strings"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// Exit code of the aggregate commands.
const exitAggregateFailed = 1 // not found, invalid, conflict (name, zone, hosts left), not allowed

const aggregateExits = "  0 done\n  1 refused: not found, invalid, a conflict (name taken, host in another zone,\n    hosts left), or not allowed\n"

func aggregateError(e *env, err error) int {
	switch client.CodeOf(err) {
	case api.CodeNotFound, api.CodeInvalid, api.CodeBadRequest, api.CodeAlreadyExists, api.CodeHostsMapped,
		api.CodeRevisionMismatch, "zone_conflict", api.CodeUnauthenticated, api.CodeForbidden:
		r := e.report()
		r.say("Refused: %s", apiMessage(err))
		return r.done(exitAggregateFailed)
	}
	return e.fail(err)
}

func aggregateTable(a *api.Aggregate) *table {
	tb := newTable("Field", "Value")
	tb.align = alignLeft
	tb.addRow("ID", a.ID)
	tb.addRow("Name", a.Name)
	tb.addRow("Availability Zone", a.AvailabilityZone)
	tb.addRow("Hosts", strings.Join(a.Hosts, ", "))
	tb.addRow("Properties", specsString(a.Metadata))
	tb.addRow("Updated", a.UpdatedAt.Format(time.RFC3339))
	return tb
}

// aggregateCmd is an aggregate command with its positional arguments and one call.
type aggregateCmd struct {
	args  string
	n     int
	zone  string
	name  string
	props keyValues
	call  func(ctx context.Context, c *client.Client, o *aggregateCmd, args []string) (*api.Aggregate, error)
	flags func(o *aggregateCmd, f *flagSet)
}

func (o *aggregateCmd) addFlags(f *flagSet) {
	if o.flags != nil {
		o.flags(o, f)
	}
	f.positional(o.args, o.n, o.n)
}

func (o *aggregateCmd) run(ctx context.Context, e *env, args []string) int {
	a, err := o.call(ctx, e.client, o, args)
	if err != nil {
		return aggregateError(e, err)
	}
	return e.show(a, aggregateTable(a))
}

func aggregateCommand(name, summary, args string, n int, flags func(o *aggregateCmd, f *flagSet),
	call func(ctx context.Context, c *client.Client, o *aggregateCmd, args []string) (*api.Aggregate, error)) command {
	return command{name: name, summary: summary, exits: aggregateExits,
		new: func() options { return &aggregateCmd{args: args, n: n, props: keyValues{}, call: call, flags: flags} }}
}

func aggregateCommands() []command {
	return []command{
		aggregateCommand("create", "Create a host aggregate, an availability zone with --zone (operator).", "<name>", 1,
			func(o *aggregateCmd, f *flagSet) {
				f.fs.StringVar(&o.zone, "zone", "", "make it the availability zone `ZONE`")
			},
			func(ctx context.Context, c *client.Client, o *aggregateCmd, args []string) (*api.Aggregate, error) {
				return c.CreateAggregate(ctx, args[0], o.zone)
			}),
		aggregateCommand("show", "Show a host aggregate (reader).", "<id>", 1, nil,
			func(ctx context.Context, c *client.Client, _ *aggregateCmd, args []string) (*api.Aggregate, error) {
				return c.Aggregate(ctx, args[0])
			}),
		aggregateCommand("add_host", "Put a mapped compute host in an aggregate (operator).", "<id> <host>", 2, nil,
			func(ctx context.Context, c *client.Client, _ *aggregateCmd, args []string) (*api.Aggregate, error) {
				return c.AddAggregateHost(ctx, args[0], args[1])
			}),
		aggregateCommand("remove_host", "Take a host out of an aggregate (operator).", "<id> <host>", 2, nil,
			func(ctx context.Context, c *client.Client, _ *aggregateCmd, args []string) (*api.Aggregate, error) {
				return c.RemoveAggregateHost(ctx, args[0], args[1])
			}),
		aggregateCommand("set", "Rename an aggregate or set properties; --property k= removes k (operator).", "<id>", 1,
			func(o *aggregateCmd, f *flagSet) {
				f.fs.StringVar(&o.name, "name", "", "the new `NAME`")
				f.fs.Var(o.props, "property", "`KEY=VALUE` (repeatable; availability_zone=Z makes it a zone)")
			},
			func(ctx context.Context, c *client.Client, o *aggregateCmd, args []string) (*api.Aggregate, error) {
				in := api.AggregateUpdate{Metadata: o.props}
				if o.name != "" {
					in.Name = &o.name
				}
				return c.UpdateAggregate(ctx, args[0], in)
			}),
		{name: "list", summary: "List the host aggregates (reader).", exits: "  0 listed\n", new: func() options { return &aggregateListOptions{} }},
		{name: "delete", summary: "Delete an aggregate without hosts (operator).", exits: aggregateExits,
			new: func() options { return &aggregateDeleteOptions{} }},
	}
}

type aggregateListOptions struct{}

func (o *aggregateListOptions) addFlags(*flagSet) {}

func (o *aggregateListOptions) run(ctx context.Context, e *env, _ []string) int {
	aggs, err := e.client.Aggregates(ctx)
	if err != nil {
		return aggregateError(e, err)
	}
	tb := newTable("ID", "Name", "Availability Zone", "Hosts")
	for _, a := range aggs {
		tb.addRow(a.ID, a.Name, a.AvailabilityZone, strings.Join(a.Hosts, ", "))
	}
	return e.show(aggs, tb)
}

type aggregateDeleteOptions struct{}

func (o *aggregateDeleteOptions) addFlags(f *flagSet) { f.positional("<id>", 1, 1) }

func (o *aggregateDeleteOptions) run(ctx context.Context, e *env, args []string) int {
	if err := e.client.DeleteAggregate(ctx, args[0]); err != nil {
		return aggregateError(e, err)
	}
	r := e.report()
	r.say("Aggregate %s deleted.", args[0])
	return r.done(exitOK)
}

// availability-zone list ----------------------------------------------------------------------

type zoneListOptions struct{}

func zoneListCommand() command {
	return command{name: "list", summary: "List the availability zones and their hosts (reader).", exits: "  0 listed\n",
		new: func() options { return &zoneListOptions{} }}
}

func (o *zoneListOptions) addFlags(*flagSet) {}

func (o *zoneListOptions) run(ctx context.Context, e *env, _ []string) int {
	zones, err := e.client.AvailabilityZones(ctx)
	if err != nil {
		return aggregateError(e, err)
	}
	tb := newTable("Zone Name", "Hosts")
	for _, z := range zones {
		tb.addRow(z.Name, strings.Join(z.Hosts, ", "))
	}
	return e.show(zones, tb)
}
