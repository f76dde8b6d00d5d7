package main

import (
	"context"
	"strconv"
	"strings"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// Exit code of the server group commands.
const exitGroupFailed = 1 // not found, invalid, or not allowed

func groupError(e *env, err error) int {
	switch client.CodeOf(err) {
	case api.CodeNotFound, api.CodeInvalid, api.CodeBadRequest, api.CodeRevisionMismatch, api.CodeUnauthenticated, api.CodeForbidden:
		r := e.report()
		r.say("Refused: %s", apiMessage(err))
		return r.done(exitGroupFailed)
	}
	return e.fail(err)
}

func groupTable(g *api.ServerGroup) *table {
	tb := newTable("Field", "Value")
	tb.align = alignLeft
	tb.addRow("ID", g.ID)
	tb.addRow("Name", g.Name)
	tb.addRow("Project ID", g.ProjectID)
	tb.addRow("Policy", g.Policy)
	if g.Rules != nil {
		tb.addRow("Rules", "max_server_per_host="+strconv.FormatInt(g.Rules.MaxServerPerHost, 10))
	}
	tb.addRow("Members", strings.Join(g.Members, ", "))
	return tb
}

// server-group create --------------------------------------------------------------------------

type groupCreateOptions struct {
	project, user, policy string
	maxPerHost            int64
}

func groupCreateCommand() command {
	return command{name: "create", summary: "Create a server group in a project (service).", exits: "  0 created\n  1 refused\n",
		new: func() options { return &groupCreateOptions{} }}
}

func (o *groupCreateOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.project, "project", "", "the project `ID`")
	f.fs.StringVar(&o.user, "user", "", "the user `ID`")
	f.fs.StringVar(&o.policy, "policy", "", "`POLICY`: affinity, anti-affinity, soft-affinity or soft-anti-affinity")
	f.fs.Int64Var(&o.maxPerHost, "max-server-per-host", 0, "anti-affinity: at most `N` members per host (default 1)")
	f.require("project", "policy")
	f.positional("<name>", 1, 1)
}

func (o *groupCreateOptions) run(ctx context.Context, e *env, args []string) int {
	in := api.ServerGroupCreate{Name: args[0], ProjectID: o.project, UserID: o.user, Policy: o.policy}
	if o.maxPerHost > 0 {
		in.Rules = &api.ServerGroupRules{MaxServerPerHost: o.maxPerHost}
	}
	g, err := e.client.CreateServerGroup(ctx, in)
	if err != nil {
		return groupError(e, err)
	}
	return e.show(g, groupTable(g))
}

// server-group list | show | delete ---------------------------------------------------------------

type groupListOptions struct{ project string }

func groupListCommand() command {
	return command{name: "list", summary: "List the server groups (reader).", exits: "  0 listed\n",
		new: func() options { return &groupListOptions{} }}
}

func (o *groupListOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.project, "project", "", "only the groups of project `ID`")
}

func (o *groupListOptions) run(ctx context.Context, e *env, _ []string) int {
	gs, err := e.client.ServerGroups(ctx, o.project)
	if err != nil {
		return groupError(e, err)
	}
	tb := newTable("ID", "Name", "Project ID", "Policy", "Members")
	for _, g := range gs {
		tb.addRow(g.ID, g.Name, g.ProjectID, g.Policy, strconv.Itoa(len(g.Members)))
	}
	return e.show(gs, tb)
}

type groupShowOptions struct{}

func groupShowCommand() command {
	return command{name: "show", summary: "Show a server group and its members (reader).", exits: "  0 shown\n  1 not found\n",
		new: func() options { return &groupShowOptions{} }}
}

func (o *groupShowOptions) addFlags(f *flagSet) { f.positional("<id>", 1, 1) }

func (o *groupShowOptions) run(ctx context.Context, e *env, args []string) int {
	g, err := e.client.ServerGroup(ctx, args[0])
	if err != nil {
		return groupError(e, err)
	}
	return e.show(g, groupTable(g))
}

type groupDeleteOptions struct{}

func groupDeleteCommand() command {
	return command{name: "delete", summary: "Delete a server group (service).", exits: "  0 deleted\n  1 refused\n",
		new: func() options { return &groupDeleteOptions{} }}
}

func (o *groupDeleteOptions) addFlags(f *flagSet) { f.positional("<id>", 1, 1) }

func (o *groupDeleteOptions) run(ctx context.Context, e *env, args []string) int {
	if err := e.client.DeleteServerGroup(ctx, args[0]); err != nil {
		return groupError(e, err)
	}
	r := e.report()
	r.say("Server group %s deleted.", args[0])
	return r.done(exitOK)
}
